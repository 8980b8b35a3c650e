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
  }
}

provider "google" {
  project = var.project_id
  region  = var.region
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
  cors_allowed_origins  = var.cors_allowed_origins
  discord               = var.discord
  sql_tier              = "db-custom-2-7680"
  sql_availability_type = "REGIONAL"
  deletion_protection   = true
  alert_emails          = var.alert_emails
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
  description = "Origins of the web app."
  type        = list(string)
}

variable "alert_emails" {
  description = "Who gets the error-rate alerts."
  type        = list(string)
  default     = []
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
