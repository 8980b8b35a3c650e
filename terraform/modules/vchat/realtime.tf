# The manifest's Cloud Run services (functions/manifest.yaml `services`): today the realtime WebSocket
# service. A container built from realtime/Dockerfile (docs/deploy.md), one WebSocket = one request:
# the request timeout bounds a socket's life (clients reconnect), concurrency = sockets per instance,
# session affinity keeps a browser's reconnects on one instance when it can (best effort: rooms span
# instances through Redis anyway), and it scales to zero.
locals {
  services = {
    for name, spec in try(local.manifest.services, {}) : name => {
      kind             = spec.kind
      health_path      = try(spec.health_path, "/healthz")
      stores           = tolist([for store in try(spec.stores, []) : store])
      memory_mb        = spec.memory_mb
      cpu              = try(spec.cpu, 1)
      timeout_s        = spec.timeout_s
      concurrency      = spec.concurrency
      min_instances    = try(spec.min_instances, 0)
      max_instances    = spec.max_instances
      session_affinity = try(spec.session_affinity, false)
      jwks_from        = try(spec.jwks_from, null)
      secrets          = { for env_name, secret in try(spec.secrets, {}) : env_name => secret }
      env              = { for env_name, value in try(spec.env, {}) : env_name => tostring(value) }
    }
  }
  realtime = local.services["realtime"]

  # One (service, secret) pair per secret a service reads: its accessor grant.
  service_secret_access = merge([
    for name, s in local.services : {
      for env_name, secret in s.secrets : "${name}/${secret}" => { service = name, secret = secret }
    }
  ]...)
}

# Its own identity with nothing but its secrets: Redis is Upstash (a URL with a password), the JWKS
# is public, so the service needs no Google role.
resource "google_service_account" "service" {
  for_each = local.services

  project      = var.project_id
  account_id   = substr("svc-${replace(each.key, "_", "-")}-${var.environment}", 0, 30)
  display_name = "V-Chat ${each.key} service (${var.environment})"
}

resource "google_secret_manager_secret_iam_member" "service_access" {
  for_each = local.service_secret_access

  project   = var.project_id
  secret_id = google_secret_manager_secret.secrets[each.value.secret].secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.service[each.value.service].email}"
}

resource "google_cloud_run_v2_service" "realtime" {
  project             = var.project_id
  name                = "realtime"
  location            = var.region
  description         = "V-Chat realtime rooms: WebSocket motion, chat and room events (${var.environment})"
  labels              = local.labels
  ingress             = "INGRESS_TRAFFIC_ALL"
  deletion_protection = false # stateless: the state is in Redis

  template {
    service_account                  = google_service_account.service["realtime"].email
    timeout                          = "${local.realtime.timeout_s}s"
    max_instance_request_concurrency = local.realtime.concurrency
    session_affinity                 = local.realtime.session_affinity
    labels                           = local.labels

    scaling {
      min_instance_count = local.realtime.min_instances
      max_instance_count = local.realtime.max_instances
    }

    containers {
      image = var.realtime_image

      ports {
        container_port = 8080
      }

      resources {
        limits = {
          cpu    = tostring(local.realtime.cpu)
          memory = "${local.realtime.memory_mb}Mi"
        }
        # An open socket is an open request, so CPU is allocated while anyone is connected; an
        # instance with no socket is billed nothing and scales to zero.
        cpu_idle          = true
        startup_cpu_boost = true
      }

      dynamic "env" {
        for_each = merge(
          local.realtime.env,
          { GOOGLE_CLOUD_PROJECT = var.project_id },
          local.realtime.jwks_from == null ? {} : {
            WS_JWKS_URL = "${google_cloudfunctions2_function.function[local.realtime.jwks_from].url}/.well-known/jwks.json"
          },
        )
        content {
          name  = env.key
          value = env.value
        }
      }

      dynamic "env" {
        for_each = local.realtime.secrets
        content {
          name = env.key
          value_source {
            secret_key_ref {
              secret  = google_secret_manager_secret.secrets[env.value].secret_id
              version = "latest"
            }
          }
        }
      }

      startup_probe {
        period_seconds    = 1
        timeout_seconds   = 1
        failure_threshold = 30
        http_get {
          path = local.realtime.health_path
        }
      }
    }
  }

  lifecycle {
    # The same fail-safe rule as the functions: no emulator variable, development flag or plain-text URL.
    precondition {
      condition = alltrue([
        for name, value in local.realtime.env :
        !can(regex(local.development_only_env, name)) && !(endswith(name, "_URL") && can(regex(local.plain_text_url, value)))
      ])
      error_message = "realtime: its environment carries an emulator variable, a development flag or a plain-text URL."
    }
  }

  # The service reads its secrets' `latest` version when an instance starts.
  depends_on = [
    google_project_service.apis,
    google_secret_manager_secret_iam_member.service_access,
    google_secret_manager_secret_version.redis_url,
  ]
}

# Browsers connect directly (a WebSocket cannot carry Google credentials): the service authenticates
# every socket itself with issue_tokens' short-lived JWT before anything else happens.
resource "google_cloud_run_v2_service_iam_member" "realtime_public" {
  project  = var.project_id
  location = var.region
  name     = google_cloud_run_v2_service.realtime.name
  role     = "roles/run.invoker"
  member   = "allUsers" #checkov:skip=CKV_GCP_102:public WebSocket endpoint, every socket authenticated by a JWT in the service
}
