# PostgreSQL 15 for the invitations schema and call analytics. Private IP only, IAM database
# authentication (each function logs in as its service account: no password anywhere).
resource "google_sql_database_instance" "main" {
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
      ssl_mode        = "ENCRYPTED_ONLY"
    }

    backup_configuration {
      enabled                        = true
      point_in_time_recovery_enabled = true
      start_time                     = "18:00" # 03:00 JST, the quietest hour
      backup_retention_settings {
        retained_backups = 14
      }
    }

    maintenance_window {
      day  = 1
      hour = 18
    }

    insights_config {
      query_insights_enabled = true
    }

    database_flags {
      name  = "cloudsql.iam_authentication"
      value = "on"
    }
    database_flags {
      name  = "log_min_duration_statement"
      value = "250"
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

# A database login for each function that uses PostgreSQL (its service account, IAM auth).
resource "google_sql_user" "function" {
  for_each = local.postgres_functions

  project  = var.project_id
  instance = google_sql_database_instance.main.name
  name     = trimsuffix(google_service_account.function[each.key].email, ".gserviceaccount.com")
  type     = "CLOUD_IAM_SERVICE_ACCOUNT"
}
