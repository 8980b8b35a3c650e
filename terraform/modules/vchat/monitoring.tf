# Alert when any function logs errors at a sustained rate (handlers log ERROR on every failure
# the platform retries, and auto_close logs its summary as ERROR when a part failed).
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

resource "google_monitoring_notification_channel" "email" {
  for_each = toset(var.alert_emails)

  project      = var.project_id
  display_name = "V-Chat ${var.environment}: ${each.value}"
  type         = "email"
  labels = {
    email_address = each.value
  }
}

resource "google_monitoring_alert_policy" "function_errors" {
  project      = var.project_id
  display_name = "V-Chat ${var.environment}: function errors"
  combiner     = "OR"

  conditions {
    display_name = "more than 10 error logs in 5 minutes, per function"
    condition_threshold {
      filter          = "metric.type=\"logging.googleapis.com/user/${google_logging_metric.function_errors.name}\" AND resource.type=\"cloud_run_revision\""
      comparison      = "COMPARISON_GT"
      threshold_value = 10
      duration        = "0s"

      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["metric.label.service"]
      }
    }
  }

  notification_channels = [for channel in google_monitoring_notification_channel.email : channel.id]

  documentation {
    content   = "A V-Chat function logs errors. Logs: resource.type=cloud_run_revision severity>=ERROR. Runbook: docs/deploy.md."
    mime_type = "text/markdown"
  }
}
