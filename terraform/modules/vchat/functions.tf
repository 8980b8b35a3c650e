# Every function of functions/manifest.yaml: runtime, entry point, memory, timeout, instances,
# per-instance concurrency, secrets and environment all come from the manifest.
resource "google_cloudfunctions2_function" "function" {
  for_each = local.functions

  project     = var.project_id
  name        = replace(each.key, "_", "-")
  location    = var.region
  description = "V-Chat ${each.key} (${var.environment})"
  labels      = local.labels

  build_config {
    runtime     = each.value.runtime
    entry_point = each.value.entry_point

    source {
      storage_source {
        bucket = google_storage_bucket.sources.name
        object = google_storage_bucket_object.source[each.key].name
      }
    }
  }

  service_config {
    available_memory                 = "${each.value.memory_mb}Mi"
    available_cpu                    = each.value.concurrency > 1 ? "1" : null # concurrency > 1 needs a whole CPU
    timeout_seconds                  = each.value.timeout_s
    min_instance_count               = each.value.min_instances
    max_instance_count               = each.value.max_instances
    max_instance_request_concurrency = each.value.concurrency
    service_account_email            = google_service_account.function[each.key].email
    ingress_settings                 = each.value.trigger_type == "http" ? "ALLOW_ALL" : "ALLOW_INTERNAL_ONLY"
    all_traffic_on_latest_revision   = true
    vpc_connector                    = contains(local.postgres_functions, each.key) ? google_vpc_access_connector.connector.id : null
    vpc_connector_egress_settings    = contains(local.postgres_functions, each.key) ? "PRIVATE_RANGES_ONLY" : null

    environment_variables = local.function_env[each.key]

    dynamic "secret_environment_variables" {
      for_each = each.value.secrets
      content {
        key        = secret_environment_variables.key
        project_id = var.project_id
        secret     = google_secret_manager_secret.secrets[secret_environment_variables.value].secret_id
        version    = "latest"
      }
    }
  }

  # Firestore document trigger: 2nd-gen CloudEvents through Eventarc, retried on failure (the
  # handlers are idempotent).
  dynamic "event_trigger" {
    for_each = contains(keys(local.firestore_triggers), each.key) ? [local.firestore_triggers[each.key]] : []
    content {
      trigger_region        = var.firestore_location
      event_type            = event_trigger.value.event_type
      retry_policy          = "RETRY_POLICY_RETRY"
      service_account_email = google_service_account.events.email

      event_filters {
        attribute = "database"
        value     = google_firestore_database.main.name
      }
      event_filters {
        attribute = "document"
        value     = event_trigger.value.document
        operator  = "match-path-pattern"
      }
    }
  }

  # Pub/Sub topic trigger (the topic also receives the function's Cloud Scheduler jobs).
  dynamic "event_trigger" {
    for_each = contains(keys(local.pubsub_triggers), each.key) ? [local.pubsub_triggers[each.key]] : []
    content {
      trigger_region        = var.region
      event_type            = "google.cloud.pubsub.topic.v1.messagePublished"
      pubsub_topic          = google_pubsub_topic.topics[event_trigger.value.topic].id
      retry_policy          = "RETRY_POLICY_RETRY"
      service_account_email = google_service_account.events.email
    }
  }

  lifecycle {
    # Fail-safe: a deployed function never runs against an emulator, with a debug switch or over
    # a plain-text URL (the *_URL variables it connects to), whatever the manifest or a variable says.
    precondition {
      condition = alltrue([
        for name, value in local.function_env[each.key] :
        !can(regex(local.development_only_env, name)) && !(endswith(name, "_URL") && can(regex(local.plain_text_url, value)))
      ])
      error_message = "${each.key}: its environment carries an emulator variable, a development flag or a plain-text URL."
    }
  }

  # A function reads its secrets' `latest` version when an instance starts: the Redis URL Terraform
  # writes must exist before the first deploy.
  depends_on = [
    google_project_service.apis,
    google_secret_manager_secret_iam_member.access,
    google_secret_manager_secret_version.redis_url,
  ]
}
