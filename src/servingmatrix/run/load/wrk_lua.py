"""The reference generator's Lua script, rendered from the workload registry.

wrk asks for the same requests Locust does: the same paths (built as the locustfiles build them),
methods, headers and bodies (a user's app's declared requests), and, for a blend, the same weights.
The registry is the one place they are written; the script only carries a copy of them in its
``ENTRIES`` table.
"""

from __future__ import annotations

import re
from pathlib import Path

from servingmatrix.workloads import Request, WorkloadConfig

#: Where the rendered script and the JSON its ``done()`` writes live inside the wrk container.
CONTAINER_DIR = "/out"
SCRIPT_NAME = "reference.lua"
RESULT_NAME = "reference.json"
#: The variable naming the file ``done()`` writes; a run without it (the warm-up) writes nothing.
OUTPUT_ENV = "SM_WRK_OUT"
#: Each wrk thread seeds its own generator from this plus its number: the sequence of picks repeats.
SEED = 16_001
_SAFE_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")


def requests_of(config: WorkloadConfig) -> list[tuple[str, str, int]]:
    """Each request type of ``config`` as (name, path, weight): the registry's, as Locust is given them."""
    return [(r.name, r.path, r.weight) for r in config.requests()]


def lua_string(text: str) -> str:
    """``text`` as a Lua string literal: printable ASCII as it is, every other byte as a decimal escape."""
    out = []
    for byte in text.encode():
        char = chr(byte)
        out.append(char if 0x20 <= byte < 0x7F and char not in '"\\' else f"\\{byte:03d}")
    return '"' + "".join(out) + '"'


def _lua_entry(request: Request) -> str:
    if not _SAFE_NAME.fullmatch(request.name) or request.weight < 1:
        raise ValueError(f"cannot put {request!r} into the wrk script")
    fields = [f'name = "{request.name}"', f"path = {lua_string(request.path)}", f"weight = {request.weight}"]
    if not request.plain:
        headers = ", ".join(f"[{lua_string(k)}] = {lua_string(v)}" for k, v in request.headers)
        fields += [f"method = {lua_string(request.method)}", f"headers = {{{headers}}}"]
        if request.body is not None:
            fields.append(f"body = {lua_string(request.body)}")
    return f"  {{{', '.join(fields)}}},"


#: The variables naming the steady window (seconds after the script's setup): when it opens, how long.
WINDOW_OPEN_ENV = "SM_WRK_WINDOW_OPEN"
WINDOW_ENV = "SM_WRK_WINDOW"

# Why one run and a window counted here: wrk's own figures cover its whole run, from the moment every
# connection opens at once, and a separate warm-up run before it leaves its last requests in the
# server's queue when it exits (a server with a long queue then spends the next run's first seconds
# answering connections already closed: 0 answers in a 3 s window was seen). So wrk runs once, through
# the warm-up and the window; ``response()`` counts the answers that complete inside the window, on
# the monotonic clock (LuaJIT's FFI), and ``done()`` writes them beside wrk's own summary.
# Why no request() for one path: wrk then formats the request once and never calls into Lua per request.
_BODY = """
local SEED = %(seed)d
local OUTPUT = os.getenv("%(output_env)s")
local WINDOW_OPEN = tonumber(os.getenv("%(window_open_env)s") or "0")
local WINDOW = tonumber(os.getenv("%(window_env)s") or "0")

local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } sm_timespec;
int clock_gettime(int clock, sm_timespec *now);
]]
local CLOCK_MONOTONIC = 1
local clock = ffi.new("sm_timespec[1]")
local function now()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, clock)
  return tonumber(clock[0].tv_sec) + tonumber(clock[0].tv_nsec) * 1e-9
end

-- Every thread's state, kept by the main one for done(); the window is the same for all of them.
local threads = {}
local count = 0
local opens = now() + WINDOW_OPEN

function setup(thread)
  count = count + 1
  thread:set("thread_number", count)
  thread:set("window_opens", opens)
  thread:set("window_closes", opens + WINDOW)
  table.insert(threads, thread)
end

answers, failed = 0, 0

function response(status, headers, body)
  local t = now()
  if t >= window_opens and t < window_closes then
    answers = answers + 1
    if status > 399 then failed = failed + 1 end
  end
end

if #ENTRIES == 1 then
  local entry = ENTRIES[1]
  wrk.path = entry.path
  wrk.method = entry.method or "GET"
  wrk.body = entry.body
  for key, value in pairs(entry.headers or {}) do wrk.headers[key] = value end
else
  local requests, bounds, total = {}, {}, 0

  function init(args)
    math.randomseed(SEED + (thread_number or 0))
    for i, entry in ipairs(ENTRIES) do
      requests[i] = wrk.format(entry.method or "GET", entry.path, entry.headers, entry.body)
      total = total + entry.weight
      bounds[i] = total
    end
  end

  function request()
    local r = math.random(total)
    for i = 1, #bounds do
      if r <= bounds[i] then return requests[i] end
    end
    return requests[#requests]
  end
end

local function number(v)
  if v ~= v or v == math.huge or v == -math.huge then return "null" end
  return string.format("%%.17g", v)
end

function done(summary, latency, requests)
  if not OUTPUT then return end
  local e = summary.errors
  local in_window, failed_in_window = 0, 0
  for _, thread in ipairs(threads) do
    in_window = in_window + (thread:get("answers") or 0)
    failed_in_window = failed_in_window + (thread:get("failed") or 0)
  end
  local parts = {
    '"requests": ' .. number(summary.requests),
    '"duration_us": ' .. number(summary.duration),
    '"bytes": ' .. number(summary.bytes),
    '"errors": {"connect": ' .. number(e.connect) .. ', "read": ' .. number(e.read)
      .. ', "write": ' .. number(e.write) .. ', "status": ' .. number(e.status)
      .. ', "timeout": ' .. number(e.timeout) .. '}',
    '"latency_us": {"p50": ' .. number(latency:percentile(50.0))
      .. ', "p90": ' .. number(latency:percentile(90.0))
      .. ', "p99": ' .. number(latency:percentile(99.0))
      .. ', "p999": ' .. number(latency:percentile(99.9))
      .. ', "mean": ' .. number(latency.mean) .. ', "max": ' .. number(latency.max) .. '}',
    '"window": {"opens_s": ' .. number(WINDOW_OPEN) .. ', "seconds": ' .. number(WINDOW)
      .. ', "answers": ' .. number(in_window) .. ', "failed": ' .. number(failed_in_window) .. '}',
  }
  -- Written beside, then renamed: a reader never sees half a file.
  local partial = OUTPUT .. ".partial"
  local file = assert(io.open(partial, "w"))
  file:write("{" .. table.concat(parts, ", ") .. "}\\n")
  file:close()
  assert(os.rename(partial, OUTPUT))
end
"""


def render_lua(config: WorkloadConfig) -> str:
    """The wrk script of ``config``: its request types, a weighted ``request()``, a JSON ``done()``."""
    entries = "\n".join(_lua_entry(r) for r in config.requests())
    header = (
        f"-- wrk script for {config.spec}, rendered from src/servingmatrix/workloads.py.\n"
        "-- ENTRIES: each request type, its path and its weight, as the registry gives them.\n"
        f"ENTRIES = {{\n{entries}\n}}\n"
    )
    return header + _BODY % {
        "seed": SEED,
        "output_env": OUTPUT_ENV,
        "window_open_env": WINDOW_OPEN_ENV,
        "window_env": WINDOW_ENV,
    }


def write_script(config: WorkloadConfig, folder: Path) -> Path:
    """Write the script of ``config`` into ``folder`` (mounted as ``/out``); return its host path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / SCRIPT_NAME
    path.write_text(render_lua(config))
    return path
