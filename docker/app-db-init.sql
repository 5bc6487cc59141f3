-- The service's role in Compose, made once, when the app's PostgreSQL initialises its data
-- directory (mounted into /docker-entrypoint-initdb.d; run by psql as the superuser, which stays
-- for administration only). The API, the workers and the migrations connect as `presence`: it owns
-- the `presence` database, so its public schema and the tables the migrations create there, and
-- nothing more: no superuser, no other database, no roles.
CREATE ROLE presence LOGIN PASSWORD 'presence' NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
CREATE DATABASE presence OWNER presence;
-- Only its owner (and the superuser) may connect to it.
REVOKE ALL ON DATABASE presence FROM PUBLIC;
