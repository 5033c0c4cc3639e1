"""The store: database engines (SQLite by default, PostgreSQL through the same code) and schema."""
