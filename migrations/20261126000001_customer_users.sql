-- Customer users (SPEC 4.7) are added with a first and a last name; display_name stays the name
-- shown everywhere (first and last joined). People added by account keep their single name.
ALTER TABLE users ADD COLUMN first_name text CHECK (length(first_name) BETWEEN 1 AND 60);
ALTER TABLE users ADD COLUMN last_name text CHECK (length(last_name) BETWEEN 1 AND 60);
