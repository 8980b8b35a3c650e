# What the alerts (alerts.tf) count: log-based metrics and where notifications go.

# Every ERROR line of a function, by service: handlers log ERROR on every failure the platform
# retries, auto_close logs its summary as ERROR when a part failed, the VRoid sync when its
# authorization is refused.
resource "google_logging_metric" "function_errors" {
  project = var.project_id
  name    = "vchat-${var.environment}-function-errors"
  filter  = "resource.type=\"cloud_run_revision\" AND severity>=ERROR AND labels.\"goog-managed-by\"=\"cloudfunctions\""

  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = "INT64"
    labels {
      key        = "service"
      value_type = "STRING"
    }
  }

  label_extractors = {
    service = "EXTRACT(resource.labels.service_name)"
  }
}

# One successful run of a scheduled job: the summary line its function writes at INFO when the
# run finished (manifest `success_log`; a run with failed parts logs it as ERROR, which does not
# count). The absence alert fires when these stop.
resource "google_logging_metric" "job_success" {
  for_each = local.schedules

  project = var.project_id
  name    = "vchat-${var.environment}-job-success-${each.key}"
  filter = join(" AND ", [
    "resource.type=\"cloud_run_revision\"",
    "resource.labels.service_name=\"${each.value.service}\"",
    "jsonPayload.message=\"${each.value.success_log}\"",
    "severity<ERROR",
  ])

  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = "INT64"
  }
}

resource "google_monitoring_notification_channel" "email" {
  for_each = toset(var.alert_emails)

  project      = var.project_id
  display_name = "V-Chat ${var.environment}: ${each.value}"
  type         = "email"
  labels = {
    email_address = each.value
  }
}
