-- One database per service (SPEC R-ARCH-2). The log-shipper keeps a local checkpoint file instead.
-- The PostgreSQL image runs this once, on an empty data directory (/docker-entrypoint-initdb.d), as
-- POSTGRES_USER, which then owns the databases. Each service creates its tables itself at start
-- (migrations). In production give each service its own role that owns only its database.
CREATE DATABASE gateway;
CREATE DATABASE resource_manager;
CREATE DATABASE orchestrator;
CREATE DATABASE autoscaler;
CREATE DATABASE monitor;
CREATE DATABASE image_sync;

-- Only the owner (and superusers) may connect.
REVOKE ALL ON DATABASE gateway FROM PUBLIC;
REVOKE ALL ON DATABASE resource_manager FROM PUBLIC;
REVOKE ALL ON DATABASE orchestrator FROM PUBLIC;
REVOKE ALL ON DATABASE autoscaler FROM PUBLIC;
REVOKE ALL ON DATABASE monitor FROM PUBLIC;
REVOKE ALL ON DATABASE image_sync FROM PUBLIC;
