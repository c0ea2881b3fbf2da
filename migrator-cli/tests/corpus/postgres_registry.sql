-- A package registry's PostgreSQL schema (in the style of the registry of a
-- language's packages, as a diesel application keeps it), written for
-- migrator's fidelity corpus from the PostgreSQL documentation: serial
-- keys, varchar without a length, timestamp without time zone, inet,
-- interval, tsvector kept by a trigger and searched through GIN, text[],
-- jsonb, uuid defaults, an enum, composite keys, a partial unique index, an
-- expression unique index over an IMMUTABLE SQL function, a view; with rows.
CREATE TYPE badge_kind AS ENUM ('maintenance', 'ci', 'coverage');
CREATE FUNCTION canonical_crate_name(text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT replace(lower($1), '-', '_')
$$;
CREATE TABLE users (
  id serial PRIMARY KEY,
  gh_login varchar NOT NULL,
  name varchar,
  gh_id integer NOT NULL,
  account_lock_until timestamp without time zone,
  is_admin boolean DEFAULT false NOT NULL,
  last_seen_ip inet,
  session_length interval DEFAULT '30 days'::interval NOT NULL
);
CREATE UNIQUE INDEX users_gh_id ON users (gh_id) WHERE gh_id > 0;
CREATE INDEX lower_gh_login ON users (lower(gh_login));
CREATE TABLE crates (
  id serial PRIMARY KEY,
  name varchar NOT NULL,
  updated_at timestamp without time zone DEFAULT now() NOT NULL,
  created_at timestamp without time zone DEFAULT now() NOT NULL,
  description varchar,
  textsearchable_index_col tsvector NOT NULL DEFAULT ''::tsvector,
  keywords text[] NOT NULL DEFAULT ARRAY[]::text[],
  max_features smallint,
  token uuid NOT NULL DEFAULT gen_random_uuid(),
  CONSTRAINT crates_name_check CHECK (name ~ '^[A-Za-z0-9_-]+$')
);
CREATE UNIQUE INDEX index_crates_name ON crates (canonical_crate_name(name));
CREATE INDEX index_crates_name_search ON crates USING gin (textsearchable_index_col);
CREATE FUNCTION trigger_crates_name_search() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.textsearchable_index_col := to_tsvector('pg_catalog.english', coalesce(NEW.name, '') || ' ' || coalesce(NEW.description, ''));
  RETURN NEW;
END
$$;
CREATE TRIGGER trigger_crates_tsvector_update BEFORE INSERT OR UPDATE ON crates FOR EACH ROW EXECUTE FUNCTION trigger_crates_name_search();
CREATE TABLE versions (
  id serial PRIMARY KEY,
  crate_id integer NOT NULL REFERENCES crates(id) ON DELETE CASCADE,
  num varchar NOT NULL,
  yanked boolean DEFAULT false NOT NULL,
  features jsonb DEFAULT '{}'::jsonb NOT NULL,
  downloads integer DEFAULT 0 NOT NULL,
  published_by integer REFERENCES users(id),
  checksum character(64) NOT NULL,
  CONSTRAINT unique_num UNIQUE (crate_id, num)
);
CREATE TABLE crate_owners (
  crate_id integer NOT NULL REFERENCES crates(id) ON DELETE CASCADE,
  owner_id integer NOT NULL,
  owner_kind integer NOT NULL,
  created_at timestamp without time zone DEFAULT now() NOT NULL,
  deleted boolean DEFAULT false NOT NULL,
  PRIMARY KEY (crate_id, owner_id, owner_kind)
);
CREATE TABLE badges (
  crate_id integer NOT NULL REFERENCES crates(id) ON DELETE CASCADE,
  badge_type badge_kind NOT NULL,
  attributes jsonb NOT NULL,
  PRIMARY KEY (crate_id, badge_type)
);
CREATE TABLE version_downloads (
  version_id integer NOT NULL REFERENCES versions(id) ON DELETE CASCADE,
  downloads integer DEFAULT 1 NOT NULL,
  counted integer DEFAULT 0 NOT NULL,
  date date DEFAULT CURRENT_DATE NOT NULL,
  processed boolean DEFAULT false NOT NULL,
  PRIMARY KEY (version_id, date)
);
CREATE INDEX index_version_downloads_not_processed ON version_downloads (processed) WHERE processed = false;
CREATE VIEW recent_crate_downloads AS
  SELECT v.crate_id, sum(vd.downloads) AS downloads FROM version_downloads vd JOIN versions v ON v.id = vd.version_id
  WHERE vd.date > (CURRENT_DATE - '90 days'::interval) GROUP BY v.crate_id;
INSERT INTO users (gh_login, gh_id) VALUES ('alice', 1), ('bob', 2);
INSERT INTO crates (name, description, keywords) VALUES ('serde', 'A framework', '{ser,de}'), ('rand_core', NULL, '{}');
INSERT INTO versions (crate_id, num, checksum, published_by) VALUES (1, '1.0.0', repeat('a', 64), 1), (2, '0.6.0', repeat('b', 64), NULL);
INSERT INTO crate_owners (crate_id, owner_id, owner_kind) VALUES (1, 1, 0);
INSERT INTO badges VALUES (1, 'ci', '{"repo": "x"}');
INSERT INTO version_downloads (version_id, downloads) VALUES (1, 10), (2, 3);
