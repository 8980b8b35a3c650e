# V-Chat prod. State in a GCS bucket created once by hand:
#   terraform -chdir=terraform/environments/prod init -backend-config="bucket=<state bucket>"
terraform {
  required_version = ">= 1.5.0"

  backend "gcs" {
    prefix = "vchat/prod"
  }

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "~> 6.0"
    }
    upstash = {
      source  = "upstash/upstash"
      version = "~> 1.5"
    }
  }
}

provider "google" {
  project = var.project_id
  region  = var.region
}

# The Upstash account's management API key (TF_VAR_upstash_api_key): provider arguments are not
# written to the state. Unused, and may stay empty, when upstash_enabled is false.
provider "upstash" {
  email   = var.upstash_email
  api_key = var.upstash_api_key
}

module "vchat" {
  source = "../../modules/vchat"

  project_id            = var.project_id
  region                = var.region
  firestore_location    = var.region
  environment           = "prod"
  repo_root             = "${path.root}/../../.."
  build_dir             = "${path.root}/../../../build"
  livekit_url           = var.livekit_url
  realtime_image        = var.realtime_image
  cors_allowed_origins  = var.cors_allowed_origins
  discord               = var.discord
  sql_tier              = "db-custom-2-7680"
  sql_max_connections   = 200
  sql_availability_type = "REGIONAL"
  deletion_protection   = true
  alert_emails          = var.alert_emails
  runbook_url           = var.runbook_url
  upstash               = { enabled = var.upstash_enabled }
}

variable "project_id" {
  description = "Google Cloud project of the prod environment."
  type        = string
}

variable "region" {
  description = "Region of the deployment."
  type        = string
  default     = "asia-northeast1"
}

variable "livekit_url" {
  description = "wss:// URL of the LiveKit server."
  type        = string
}

variable "realtime_image" {
  description = "Image of the realtime service (gcloud builds submit --config realtime/cloudbuild.yaml)."
  type        = string
}

variable "discord" {
  description = "The Discord application, server, channels and staff role of this environment (docs/discord.md)."
  type = object({
    application_id   = string
    client_id        = optional(string)
    guild_id         = string
    channel_id       = string
    staff_channel_id = string
    staff_role_id    = string
  })
}

variable "cors_allowed_origins" {
  description = "Origins of the web app (https only; the module checks their form)."
  type        = list(string)

  validation {
    condition     = alltrue([for origin in var.cors_allowed_origins : startswith(origin, "https://")])
    error_message = "Production serves the web app over https only: no http (localhost) origins."
  }
}

variable "alert_emails" {
  description = "Who gets the alerts."
  type        = list(string)
  default     = []
}

variable "runbook_url" {
  description = "URL of docs/operations.md as the people paged can read it; alerts link its sections."
  type        = string
  default     = "docs/operations.md"
}

variable "upstash_enabled" {
  description = "Create the Upstash Redis database and the redis-url secret from it (false: bring your own rediss:// URL)."
  type        = bool
  default     = true
}

variable "upstash_email" {
  description = "Email of the Upstash account (only when upstash_enabled)."
  type        = string
  default     = ""
}

variable "upstash_api_key" {
  description = "Upstash management API key (only when upstash_enabled); pass it as TF_VAR_upstash_api_key."
  type        = string
  default     = ""
  sensitive   = true
}

output "http_function_urls" {
  description = "Base URL of each HTTP function."
  value       = module.vchat.http_function_urls
}

output "sql_connection_name" {
  description = "Cloud SQL connection name (for migrations through the Cloud SQL Auth Proxy)."
  value       = module.vchat.sql_connection_name
}

output "secret_ids" {
  description = "Secrets to give a version before the first apply."
  value       = module.vchat.secret_ids
}

output "database_logins" {
  description = "Functions' IAM database users and their roles (python -m deploy grant-roles)."
  value       = module.vchat.database_logins
}

output "dead_letter_topics" {
  description = "Dead-letter topics to attach to the event triggers (python -m deploy dead-letters)."
  value       = module.vchat.dead_letter_topics
}

output "realtime_url" {
  description = "wss:// base URL of the realtime service."
  value       = module.vchat.realtime_url
}
