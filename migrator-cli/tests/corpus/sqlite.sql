-- A blog's SQLite schema, written for migrator's fidelity corpus from the
-- SQLite documentation: what real applications use (INTEGER PRIMARY KEY
-- and AUTOINCREMENT, COLLATE NOCASE, generated columns, partial and
-- expression indexes, WITHOUT ROWID and STRICT tables, ON UPDATE CASCADE,
-- CHECK, views, triggers), with rows.
CREATE TABLE authors (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  handle TEXT NOT NULL COLLATE NOCASE UNIQUE,
  bio TEXT,
  mentor_id INTEGER,
  legacy TEXT,
  joined_at TEXT NOT NULL DEFAULT (datetime('now'))
);
CREATE TABLE posts (
  id INTEGER PRIMARY KEY,
  author_id INTEGER NOT NULL REFERENCES authors(id) ON DELETE CASCADE,
  slug TEXT NOT NULL,
  title TEXT NOT NULL CHECK (length(title) <= 200),
  body TEXT NOT NULL DEFAULT '',
  published INTEGER NOT NULL DEFAULT 0 CHECK (published IN (0, 1)),
  word_count INTEGER GENERATED ALWAYS AS (length(body) - length(replace(body, ' ', '')) + 1) VIRTUAL,
  slug_length INTEGER GENERATED ALWAYS AS (length(slug)) STORED
);
CREATE INDEX posts_word_count ON posts (word_count);
CREATE UNIQUE INDEX posts_author_slug ON posts (author_id, slug);
CREATE INDEX posts_published_idx ON posts (author_id) WHERE published = 1;
CREATE INDEX posts_lower_title ON posts (lower(title));
CREATE TABLE tags (name TEXT PRIMARY KEY COLLATE NOCASE, uses INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;
CREATE TABLE post_tags (
  post_id INTEGER NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
  tag TEXT NOT NULL REFERENCES tags(name) ON UPDATE CASCADE,
  PRIMARY KEY (post_id, tag)
) STRICT;
CREATE VIEW published_posts AS
  SELECT p.id, a.handle, p.title FROM posts p JOIN authors a ON a.id = p.author_id WHERE p.published = 1;
CREATE TRIGGER tag_uses AFTER INSERT ON post_tags
  BEGIN UPDATE tags SET uses = uses + 1 WHERE name = NEW.tag; END;

INSERT INTO authors (handle, bio, mentor_id, legacy) VALUES ('Ann', NULL, NULL, 'x'), ('bob', 'writes', 1, NULL);
INSERT INTO posts (author_id, slug, title, body, published) VALUES
  (1, 'hello', 'Hello', 'hello big world', 1), (2, 'draft', 'Draft', '', 0);
INSERT INTO tags (name) VALUES ('rust'), ('sql');
INSERT INTO post_tags VALUES (1, 'rust'), (1, 'sql');
