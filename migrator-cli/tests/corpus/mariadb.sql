-- A billing application's MySQL/MariaDB schema, written for migrator's
-- fidelity corpus from the MariaDB documentation: what real applications
-- use (unsigned auto-increment keys, character sets and collations per
-- table and column, comments, ON UPDATE CURRENT_TIMESTAMP, ENUM, JSON,
-- per-table index names, FULLTEXT, CHECK, views, triggers, a stored
-- function and procedure), with rows.
CREATE TABLE customers (
  id INT UNSIGNED NOT NULL AUTO_INCREMENT,
  email VARCHAR(190) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci NOT NULL,
  password_hash VARCHAR(255) CHARACTER SET utf8mb3 COLLATE utf8mb3_bin NOT NULL,
  status ENUM('active','suspended','closed') NOT NULL DEFAULT 'active',
  score DOUBLE NOT NULL DEFAULT 0,
  referrer_id INT UNSIGNED NULL,
  legacy_code VARCHAR(20) NULL,
  created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP COMMENT 'last change',
  PRIMARY KEY (id),
  UNIQUE KEY customers_email_unique (email)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci COMMENT='who buys';

CREATE TABLE invoices (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  customer_id INT UNSIGNED NOT NULL,
  number VARCHAR(32) NOT NULL,
  amount DECIMAL(12,2) NOT NULL DEFAULT 0.00,
  paid TINYINT(1) NOT NULL DEFAULT 0,
  issued_on DATE NOT NULL,
  meta JSON NULL,
  po_ref VARCHAR(40) NULL,
  PRIMARY KEY (id),
  UNIQUE KEY number_unique (number),
  KEY idx_customer (customer_id, issued_on),
  CONSTRAINT invoices_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id) ON DELETE CASCADE,
  CONSTRAINT amount_nonneg CHECK (amount >= 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE invoice_items (
  invoice_id BIGINT UNSIGNED NOT NULL,
  line SMALLINT UNSIGNED NOT NULL,
  description TEXT NOT NULL,
  qty INT NOT NULL DEFAULT 1,
  PRIMARY KEY (invoice_id, line),
  KEY idx_customer (qty),
  CONSTRAINT items_invoice_fk FOREIGN KEY (invoice_id) REFERENCES invoices (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE search_documents (
  id INT UNSIGNED NOT NULL AUTO_INCREMENT,
  body TEXT NOT NULL,
  PRIMARY KEY (id),
  FULLTEXT KEY ft_body (body)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE FUNCTION invoice_total(p_invoice bigint(20) unsigned) RETURNS decimal(12,2) READS SQL DATA COMMENT 'sum of the lines' BEGIN DECLARE t decimal(12,2); SELECT COALESCE(SUM(qty), 0) INTO t FROM invoice_items WHERE invoice_id = p_invoice; RETURN t; END;
CREATE PROCEDURE mark_paid(IN p_invoice bigint(20) unsigned, OUT p_done int(11)) MODIFIES SQL DATA BEGIN UPDATE invoices SET paid = 1 WHERE id = p_invoice; SET p_done = ROW_COUNT(); END;
CREATE VIEW unpaid AS
  SELECT i.id, c.email, i.amount FROM invoices i JOIN customers c ON c.id = i.customer_id WHERE i.paid = 0;
CREATE TRIGGER invoices_number_upper BEFORE INSERT ON invoices
  FOR EACH ROW SET NEW.number = UPPER(NEW.number);

INSERT INTO customers (email, password_hash, referrer_id, legacy_code) VALUES
  ('ann@example.com', 'Secret', NULL, 'A1'), ('bob@example.com', 'secret', 1, NULL),
  ('cy@example.com', 'sécret ☃', 1, 'C3');
INSERT INTO invoices (customer_id, number, amount, issued_on, meta) VALUES
  (1, 'inv-1', 10.00, '2026-01-01', '{"po": 7}'), (2, 'inv-2', 0, '2026-02-01', NULL);
INSERT INTO invoice_items VALUES (1, 1, 'Widget', 2), (1, 2, 'Gadget', 1);
INSERT INTO search_documents (body) VALUES ('migrations that keep data');
