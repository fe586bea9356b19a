-- The notes the API serves: run in the stack's PostgreSQL whenever it starts, as the app's role.
CREATE TABLE notes (
    id SERIAL PRIMARY KEY,
    title TEXT NOT NULL,
    tag TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
INSERT INTO notes (title, tag, created_at)
SELECT 'note ' || n, 'tag-' || (n % 10), TIMESTAMPTZ '2026-01-01' + n * INTERVAL '1 minute'
FROM generate_series(1, 1000) AS n;
CREATE INDEX notes_tag ON notes (tag);
ANALYZE notes;
