-- A team ledger on PostgreSQL, set up by an administrator with least privilege for the members.
-- See the README, "Use it as a team". Replace the passwords, and `team_a` by your ledger's schema
-- (one schema per ledger: several teams can share one server and one database).
--
-- Part 1: as a superuser (psql -U postgres -f docs/team-ledger.sql stops after this part
-- unless you run part 2 as shown below).

CREATE ROLE rag_ledger_admin LOGIN PASSWORD 'change-me';
-- The members' privileges are granted to this group role; each person logs in as their own role.
CREATE ROLE rag_ledger_member NOLOGIN;
CREATE ROLE alice LOGIN PASSWORD 'change-me' IN ROLE rag_ledger_member;
CREATE ROLE bob LOGIN PASSWORD 'change-me' IN ROLE rag_ledger_member;
CREATE DATABASE rag_ledger OWNER rag_ledger_admin;

-- Part 2: connected to the new database as its owner:
--   psql "postgres://rag_ledger_admin@HOST/rag_ledger" -v ON_ERROR_STOP=1 -f part2.sql
-- (the statements from here to the end). They are what RAG Ledger's migration 1 creates; a
-- member that finds them in place creates nothing (rag-ledger records the version in `migrations`).
-- @part2
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
CREATE SCHEMA team_a;
CREATE TABLE team_a.migrations (version integer PRIMARY KEY, description text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE team_a.events (
  position bigint PRIMARY KEY CHECK (position > 0),
  event_id text NOT NULL UNIQUE,
  stream_id text NOT NULL,
  stream_version integer NOT NULL CHECK (stream_version > 0),
  category text NOT NULL,
  type text NOT NULL,
  schema_version integer NOT NULL,
  data text NOT NULL,
  metadata text NOT NULL,
  attachment bytea,
  recorded_at text NOT NULL,
  prev_hash text NOT NULL,
  hash text NOT NULL,
  correlation_id text,
  UNIQUE (stream_id, stream_version)
);
CREATE INDEX events_type ON team_a.events (type, position);
CREATE INDEX events_category ON team_a.events (category, position);
CREATE INDEX events_correlation ON team_a.events (correlation_id, position) WHERE correlation_id IS NOT NULL;
CREATE TABLE team_a.streams (stream_id text PRIMARY KEY, version integer NOT NULL);
INSERT INTO team_a.migrations (version, description) VALUES (1, 'events, streams, and their indexes');

-- Members read and append. They never delete: the only rows they change are the payloads a
-- `forget` empties (data, metadata, attachment), which verify then checks against the
-- DocumentForgotten that attests them. Leave out the UPDATE grant to keep forget to the admin.
GRANT CONNECT ON DATABASE rag_ledger TO rag_ledger_member;
GRANT USAGE ON SCHEMA team_a TO rag_ledger_member;
GRANT SELECT ON team_a.migrations TO rag_ledger_member;
GRANT SELECT, INSERT ON team_a.events TO rag_ledger_member;
GRANT UPDATE (data, metadata, attachment, correlation_id) ON team_a.events TO rag_ledger_member;
GRANT SELECT, INSERT, UPDATE ON team_a.streams TO rag_ledger_member;
