-- Run once by the postgres image on an empty data volume (docker-entrypoint-initdb.d), as
-- POSTGRES_USER: one database per service, since no service shares tables with another.
CREATE DATABASE catalog;
CREATE DATABASE review;
CREATE DATABASE orders;
CREATE DATABASE license;
