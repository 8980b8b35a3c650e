# PostgreSQL 15 for the invitations schema and call analytics. Private IP only, IAM database
# authentication (each function logs in as its service account: no password anywhere).
#
# POSTGRES_15, not the newest major: the local stack and every test run on the machine's
# PostgreSQL 15 (migrations, roles, the restore drill), so production runs what was tested. Move
# both together (Cloud SQL in-place major upgrade + the stack's binaries), not one of them.
resource "google_sql_database_instance" "main" {
  #checkov:skip=CKV_GCP_79:POSTGRES_15 on purpose, the major version the local stack and the tests run (see the comment above)
  #checkov:skip=CKV2_GCP_13:log_duration writes a line for every statement; Query Insights already has every statement's latency, without the log volume
  #checkov:skip=CKV_GCP_108:clients connect through the Serverless VPC connector from addresses without reverse DNS; log_connections names the IAM user, which identifies the caller
  project             = var.project_id
  name                = "vchat-${var.environment}"
  region              = var.region
  database_version    = "POSTGRES_15"
  deletion_protection = var.deletion_protection

  settings {
    tier                        = var.sql_tier
    availability_type           = var.sql_availability_type
    deletion_protection_enabled = var.deletion_protection
    user_labels                 = local.labels

    ip_configuration {
      ipv4_enabled    = false
      private_network = google_compute_network.vpc.id
      # Every client goes through the Cloud SQL connector or the Auth Proxy, which present a
      # client certificate: nothing else may connect.
      ssl_mode = "TRUSTED_CLIENT_CERTIFICATE_REQUIRED"
    }

    # 30 daily backups (the operations plan keeps 30 days) and 7 days of write-ahead log for
    # point-in-time recovery (RPO: minutes; docs/operations.md).
    backup_configuration {
      enabled                        = true
      point_in_time_recovery_enabled = true
      start_time                     = "18:00" # 03:00 JST, the quietest hour
      transaction_log_retention_days = 7
      backup_retention_settings {
        retained_backups = 30
        retention_unit   = "COUNT"
      }
    }

    maintenance_window {
      day  = 1
      hour = 18
    }

    # The slow-query record and the p95 latency the alert watches (alerts.tf). Query strings are
    # normalized (literals replaced), client addresses are not kept.
    insights_config {
      query_insights_enabled  = true
      query_string_length     = 1024
      record_application_tags = false
      record_client_address   = false
    }

    database_flags {
      name  = "cloudsql.iam_authentication"
      value = "on"
    }
    # Set, not left to the tier's default: the connection budget (docs/operations.md,
    # tests/test_connection_budget.py) is checked against this number.
    database_flags {
      name  = "max_connections"
      value = tostring(var.sql_max_connections)
    }
    # Off: a slow statement in the server log comes with its bind values (names, Discord ids).
    # Slow statements are Query Insights' job (normalized text, no values; alerts.tf watches p95).
    database_flags {
      name  = "log_min_duration_statement"
      value = "-1"
    }
    # Statements that fail are logged; their bind values are not (log_parameter_max_length_on_error
    # stays at its default 0), and the code binds every value.
    database_flags {
      name  = "log_min_error_statement"
      value = "error"
    }
    # Schema changes are logged (DDL carries no user data); reads and writes are not.
    database_flags {
      name  = "log_statement"
      value = "ddl"
    }
    # pgAudit records role and DDL changes (GRANT, CREATE ROLE, ALTER TABLE) with who made them.
    database_flags {
      name  = "cloudsql.enable_pgaudit"
      value = "on"
    }
    database_flags {
      name  = "pgaudit.log"
      value = "ddl,role"
    }
    database_flags {
      name  = "log_checkpoints"
      value = "on"
    }
    database_flags {
      name  = "log_connections"
      value = "on"
    }
    database_flags {
      name  = "log_disconnections"
      value = "on"
    }
    database_flags {
      name  = "log_lock_waits"
      value = "on"
    }
  }

  depends_on = [google_service_networking_connection.sql]
}

resource "google_sql_database" "vchat" {
  project  = var.project_id
  instance = google_sql_database_instance.main.name
  name     = "vchat"
}

# A database login for each function that uses PostgreSQL (its service account, IAM auth). It
# holds no privilege until `python -m deploy grant-roles` makes it a member of the group roles its
# manifest entry names (docs/deploy.md).
resource "google_sql_user" "function" {
  for_each = local.postgres_functions

  project  = var.project_id
  instance = google_sql_database_instance.main.name
  name     = trimsuffix(google_service_account.function[each.key].email, ".gserviceaccount.com")
  type     = "CLOUD_IAM_SERVICE_ACCOUNT"

  lifecycle {
    precondition {
      condition     = length(trimsuffix(google_service_account.function[each.key].email, ".gserviceaccount.com")) <= 63
      error_message = "PostgreSQL role names are at most 63 bytes: shorten the project id or the environment name."
    }
  }
}
