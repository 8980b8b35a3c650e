variable "project_id" {
  description = "Google Cloud project that hosts everything."
  type        = string
}

variable "region" {
  description = "Region of the functions, Cloud SQL, the connector and the scheduler jobs."
  type        = string
  default     = "asia-northeast1"
}

variable "firestore_location" {
  description = "Location of the Firestore database (also the Eventarc region of its triggers)."
  type        = string
  default     = "asia-northeast1"
}

variable "environment" {
  description = "Short environment name used in resource names and labels (dev, prod)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,10}$", var.environment))
    error_message = "environment must be 2-11 lowercase letters, digits or dashes."
  }
}

variable "repo_root" {
  description = "Path to the repository root: the manifest, rules and indexes are read from there."
  type        = string
}

variable "build_dir" {
  description = "Folder holding the function zips written by `make package` (<name>.zip)."
  type        = string
}

variable "livekit_url" {
  description = "wss:// URL of the LiveKit server handed to clients with their tokens."
  type        = string

  validation {
    condition     = startswith(var.livekit_url, "wss://")
    error_message = "livekit_url must be a wss:// (TLS) URL: a deployed client never talks to LiveKit in plain text."
  }
}

variable "realtime_image" {
  description = "Container image of the realtime service, built from realtime/Dockerfile (docs/deploy.md)."
  type        = string
}

variable "discord" {
  description = "The Discord application and the community's server (docs/discord.md): ids only, the bot token, public key and client secret are secrets."
  type = object({
    application_id   = string
    client_id        = optional(string) # the OAuth2 client id; the application id when null
    guild_id         = string
    channel_id       = string # where invitations are posted
    staff_channel_id = string # where staff are told about invitations and tickets
    staff_role_id    = string # the guild role that makes a member staff
    api_url          = optional(string, "https://discord.com/api/v10")
    authorize_url    = optional(string, "https://discord.com/oauth2/authorize")
  })

  validation {
    condition = alltrue([
      for id in [var.discord.application_id, var.discord.guild_id, var.discord.channel_id, var.discord.staff_channel_id, var.discord.staff_role_id] :
      can(regex("^[0-9]{1,20}$", id))
    ])
    error_message = "Discord ids are snowflakes: 1 to 20 digits."
  }
}

variable "cors_allowed_origins" {
  description = "Origins of the web app allowed to call the HTTP functions from a browser: every HTTP function's CORS_ALLOWED_ORIGINS (docs/frontend.md, \"CORS and deploying\")."
  type        = list(string)

  # A browser sends its Origin as scheme://host[:port], lowercase, without a path: anything else
  # (a trailing slash, a path, capitals, a wildcard) would never match or would allow too much. Plain
  # http only for a developer's own machine (the prod root refuses even that).
  validation {
    condition = length(var.cors_allowed_origins) > 0 && alltrue([
      for origin in var.cors_allowed_origins : can(regex("^(https://[a-z0-9]([a-z0-9.-]*[a-z0-9])?|http://(localhost|127\\.0\\.0\\.1))(:[0-9]{1,5})?$", origin))
    ])
    error_message = "cors_allowed_origins: one or more https://host[:port] origins (http only for localhost), lowercase, no path, no trailing slash, no wildcard."
  }
}

variable "sql_tier" {
  description = "Cloud SQL machine tier."
  type        = string
  default     = "db-custom-1-3840"
}

variable "sql_max_connections" {
  description = "max_connections of Cloud SQL, set explicitly: the functions' pools (DB_POOL_SIZE x 2 x max instances, summed) must fit under it with headroom (docs/operations.md, tests/test_connection_budget.py)."
  type        = number
  default     = 100

  validation {
    condition     = var.sql_max_connections >= 50 && var.sql_max_connections <= 1000
    error_message = "sql_max_connections must be between 50 and 1000."
  }
}

variable "sql_availability_type" {
  description = "ZONAL or REGIONAL (high availability) for Cloud SQL."
  type        = string
  default     = "ZONAL"

  validation {
    condition     = contains(["ZONAL", "REGIONAL"], var.sql_availability_type)
    error_message = "sql_availability_type must be ZONAL or REGIONAL."
  }
}

variable "deletion_protection" {
  description = "Protect the stateful resources (Cloud SQL, Firestore) from `terraform destroy`."
  type        = bool
  default     = true
}

variable "connector_cidr" {
  description = "A free /28 for the Serverless VPC Access connector (functions reach Cloud SQL's private IP)."
  type        = string
  default     = "10.8.0.0/28"
}

variable "alert_emails" {
  description = "Who is notified when an alert fires (alerts.tf)."
  type        = list(string)
  default     = []
}

variable "runbook_url" {
  description = "Where docs/operations.md is readable by whoever is paged (e.g. its URL in the repository host); every alert links a section of it."
  type        = string
  default     = "docs/operations.md"
}

variable "upstash" {
  description = "Upstash Redis created by Terraform (enabled) or brought by the operator (disabled: add the redis-url secret version by hand, a rediss:// URL). The primary region should be the nearest to var.region."
  type = object({
    enabled        = bool
    primary_region = optional(string, "ap-northeast-1")
    read_regions   = optional(list(string), [])
  })
  default = { enabled = true }
}

variable "labels" {
  description = "Labels added to every resource that takes them."
  type        = map(string)
  default     = {}
}
