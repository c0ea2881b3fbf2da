-- A video-rental shop's MySQL/MariaDB schema, written for migrator's
-- fidelity corpus from the MariaDB documentation, in the style of the
-- classic sample databases: small unsigned keys of every width (TINYINT,
-- SMALLINT, MEDIUMINT), YEAR, ENUM and SET columns, DECIMAL defaults,
-- ON UPDATE CASCADE foreign keys, a FULLTEXT index, triggers with
-- BEGIN .. END bodies, a stored function and procedure, a view with
-- GROUP_CONCAT; written as a dump is, with DELIMITER; with rows.
CREATE TABLE language (
  language_id TINYINT UNSIGNED NOT NULL AUTO_INCREMENT,
  name CHAR(20) NOT NULL,
  last_update TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  PRIMARY KEY (language_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE film (
  film_id SMALLINT UNSIGNED NOT NULL AUTO_INCREMENT,
  title VARCHAR(128) NOT NULL,
  description TEXT DEFAULT NULL,
  release_year YEAR DEFAULT NULL,
  language_id TINYINT UNSIGNED NOT NULL,
  original_language_id TINYINT UNSIGNED DEFAULT NULL,
  rental_duration TINYINT UNSIGNED NOT NULL DEFAULT 3,
  rental_rate DECIMAL(4,2) NOT NULL DEFAULT 4.99,
  length SMALLINT UNSIGNED DEFAULT NULL,
  rating ENUM('G','PG','PG-13','R','NC-17') DEFAULT 'G',
  special_features SET('Trailers','Commentaries','Deleted Scenes','Behind the Scenes') DEFAULT NULL,
  PRIMARY KEY (film_id),
  KEY idx_title (title),
  KEY idx_fk_language_id (language_id),
  CONSTRAINT fk_film_language FOREIGN KEY (language_id) REFERENCES language (language_id) ON DELETE RESTRICT ON UPDATE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE inventory (
  inventory_id MEDIUMINT UNSIGNED NOT NULL AUTO_INCREMENT,
  film_id SMALLINT UNSIGNED NOT NULL,
  store_id TINYINT UNSIGNED NOT NULL,
  PRIMARY KEY (inventory_id),
  KEY idx_store_id_film_id (store_id, film_id),
  CONSTRAINT fk_inventory_film FOREIGN KEY (film_id) REFERENCES film (film_id) ON DELETE RESTRICT ON UPDATE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE film_text (
  film_id SMALLINT UNSIGNED NOT NULL,
  title VARCHAR(255) NOT NULL,
  description TEXT,
  PRIMARY KEY (film_id),
  FULLTEXT KEY idx_title_description (title, description)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

DELIMITER ;;
CREATE TRIGGER ins_film AFTER INSERT ON film FOR EACH ROW BEGIN
  INSERT INTO film_text (film_id, title, description)
    VALUES (new.film_id, new.title, new.description);
END;;
CREATE TRIGGER upd_film AFTER UPDATE ON film FOR EACH ROW BEGIN
  IF (old.title != new.title) OR (old.description != new.description) THEN
    UPDATE film_text SET title = new.title, description = new.description
      WHERE film_id = old.film_id;
  END IF;
END;;
CREATE FUNCTION inventory_in_stock(p_inventory_id int(11)) RETURNS tinyint(1) READS SQL DATA
BEGIN
  RETURN (SELECT COUNT(*) > 0 FROM inventory WHERE inventory_id = p_inventory_id);
END;;
CREATE PROCEDURE film_in_stock(IN p_film_id int(11), OUT p_count int(11)) READS SQL DATA
BEGIN
  SELECT COUNT(*) INTO p_count FROM inventory WHERE film_id = p_film_id;
END;;
DELIMITER ;

CREATE VIEW film_list AS
  SELECT f.film_id AS fid, f.title, GROUP_CONCAT(l.name SEPARATOR ', ') AS langs
  FROM film f JOIN language l ON l.language_id = f.language_id GROUP BY f.film_id, f.title;

INSERT INTO language (name) VALUES ('English'), ('Italian');
INSERT INTO film (title, description, release_year, language_id, rating, special_features, length) VALUES
  ('ACADEMY DINOSAUR', 'An epic drama', 2006, 1, 'PG', 'Deleted Scenes,Behind the Scenes', 86),
  ('ACE GOLDFINGER', NULL, NULL, 2, 'G', NULL, NULL);
INSERT INTO inventory (film_id, store_id) VALUES (1, 1), (1, 2), (2, 1);
