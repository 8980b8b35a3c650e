# Alerts that fire, each linking the runbook section of docs/operations.md that says what to do.
# Sized from the manifest (schedules' interval_s, the HTTP and event functions) and from the
# database's max_connections, so a new function or job gets its alerts with no edit here.

locals {
  notification_channels = [for channel in google_monitoring_notification_channel.email : channel.id]

  job_alerts = {
    for name, s in local.schedules : name => {
      # Absent: three intervals without a successful run (Monitoring accepts 2 min to 23.5 h).
      absent_s = min(max(3 * s.interval_s, 120), 84600)
      align_s  = min(s.interval_s, 300)
      # Failing: a job that runs every few minutes may fail once (a store blinked); more than
      # half of the runs in 5 minutes failing is an outage. A job that runs a few times a day
      # has no next run soon enough: its first failure alerts.
      failure_window_s  = s.interval_s < 3600 ? 300 : 3600
      failure_threshold = s.interval_s < 3600 ? floor(300 / s.interval_s / 2) : 0
    }
  }

  sql_connection_alert_threshold = floor(var.sql_max_connections * 0.8)
  slow_query_p95_us              = 1000000 # Query Insights latencies are in microseconds
  event_backlog_alert_s          = 900     # 15 minutes: retries are not catching up
  http_5xx_ratio                 = 0.05
}

resource "google_monitoring_alert_policy" "job_absent" {
  for_each = local.schedules

  project      = var.project_id
  display_name = "V-Chat ${var.environment}: ${each.key} has not run"
  combiner     = "OR"

  conditions {
    display_name = "no successful ${each.key} run for ${local.job_alerts[each.key].absent_s}s (3 intervals)"
    condition_absent {
      filter   = "metric.type=\"logging.googleapis.com/user/${google_logging_metric.job_success[each.key].name}\" AND resource.type=\"cloud_run_revision\""
      duration = "${local.job_alerts[each.key].absent_s}s"

      # One series across revisions: a redeploy starts new series and must not look like an absence.
      aggregations {
        alignment_period     = "${local.job_alerts[each.key].align_s}s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
      }
    }
  }

  notification_channels = local.notification_channels

  documentation {
    content   = "No `${each.value.success_log}` line from ${each.value.function} (schedule `${each.value.cron}` ${each.value.time_zone}) for three intervals. Runbook: ${var.runbook_url}#scheduled-job-not-running"
    mime_type = "text/markdown"
  }
}

resource "google_monitoring_alert_policy" "job_failing" {
  for_each = local.schedules

  project      = var.project_id
  display_name = "V-Chat ${var.environment}: ${each.key} is failing"
  combiner     = "OR"

  conditions {
    display_name = "more than ${local.job_alerts[each.key].failure_threshold} error lines from ${each.value.service} in ${local.job_alerts[each.key].failure_window_s}s"
    condition_threshold {
      filter          = "metric.type=\"logging.googleapis.com/user/${google_logging_metric.function_errors.name}\" AND resource.type=\"cloud_run_revision\" AND metric.label.service=\"${each.value.service}\""
      comparison      = "COMPARISON_GT"
      threshold_value = local.job_alerts[each.key].failure_threshold
      duration        = "0s"

      aggregations {
        alignment_period     = "${local.job_alerts[each.key].failure_window_s}s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
      }
    }
  }

  notification_channels = local.notification_channels

  documentation {
    content   = "${each.value.function} logs errors while running ${each.key}. Logs: resource.labels.service_name=\"${each.value.service}\" severity>=ERROR. Runbook: ${var.runbook_url}#scheduled-job-failing"
    mime_type = "text/markdown"
  }
}

# The generic one: any function logging errors at a sustained rate.
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

  notification_channels = local.notification_channels

  documentation {
    content   = "A V-Chat function logs errors. Logs: resource.type=cloud_run_revision severity>=ERROR. Runbook: ${var.runbook_url}#function-errors"
    mime_type = "text/markdown"
  }
}

resource "google_monitoring_alert_policy" "sql_connections" {
  project      = var.project_id
  display_name = "V-Chat ${var.environment}: database connections above 80 %"
  combiner     = "OR"

  conditions {
    display_name = "connections > ${local.sql_connection_alert_threshold} of max_connections ${var.sql_max_connections}"
    condition_threshold {
      filter          = "metric.type=\"cloudsql.googleapis.com/database/postgresql/num_backends\" AND resource.type=\"cloudsql_database\" AND resource.label.database_id=\"${var.project_id}:${google_sql_database_instance.main.name}\""
      comparison      = "COMPARISON_GT"
      threshold_value = local.sql_connection_alert_threshold
      duration        = "300s"

      aggregations {
        alignment_period     = "60s"
        per_series_aligner   = "ALIGN_MAX"
        cross_series_reducer = "REDUCE_SUM" # every database of the instance shares max_connections
      }
    }
  }

  notification_channels = local.notification_channels

  documentation {
    content   = "Cloud SQL ${google_sql_database_instance.main.name} uses more than 80 % of its ${var.sql_max_connections} connections. Runbook: ${var.runbook_url}#database-connections-near-the-limit"
    mime_type = "text/markdown"
  }
}

resource "google_monitoring_alert_policy" "sql_slow_queries" {
  project      = var.project_id
  display_name = "V-Chat ${var.environment}: slow queries (p95 > 1 s)"
  combiner     = "OR"

  conditions {
    display_name = "Query Insights latency p95 > 1 s for 5 minutes"
    condition_threshold {
      filter          = "metric.type=\"cloudsql.googleapis.com/database/postgresql/insights/aggregate/latencies\" AND resource.type=\"cloudsql_instance_database\" AND resource.label.resource_id=\"${var.project_id}:${google_sql_database_instance.main.name}\""
      comparison      = "COMPARISON_GT"
      threshold_value = local.slow_query_p95_us
      duration        = "300s"

      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_DELTA"
        cross_series_reducer = "REDUCE_PERCENTILE_95"
      }
    }
  }

  notification_channels = local.notification_channels

  documentation {
    content   = "The 95th percentile of query latency (Query Insights) is above 1 s. Runbook: ${var.runbook_url}#slow-queries"
    mime_type = "text/markdown"
  }
}

# Eventarc's delivery subscriptions (Firestore and Pub/Sub triggers): events waiting longer than
# retries should take mean a function that keeps failing or cannot keep up.
resource "google_monitoring_alert_policy" "event_backlog" {
  project      = var.project_id
  display_name = "V-Chat ${var.environment}: events waiting too long"
  combiner     = "OR"

  conditions {
    display_name = "oldest unacknowledged event older than ${local.event_backlog_alert_s}s"
    condition_threshold {
      filter          = "metric.type=\"pubsub.googleapis.com/subscription/oldest_unacked_message_age\" AND resource.type=\"pubsub_subscription\" AND resource.label.subscription_id=starts_with(\"eventarc-\")"
      comparison      = "COMPARISON_GT"
      threshold_value = local.event_backlog_alert_s
      duration        = "300s"

      aggregations {
        alignment_period     = "60s"
        per_series_aligner   = "ALIGN_MAX"
        cross_series_reducer = "REDUCE_MAX"
        group_by_fields      = ["resource.label.subscription_id"]
      }
    }
  }

  notification_channels = local.notification_channels

  documentation {
    content   = "An event trigger's subscription holds an event older than ${local.event_backlog_alert_s / 60} minutes. Runbook: ${var.runbook_url}#event-backlog"
    mime_type = "text/markdown"
  }
}

resource "google_monitoring_alert_policy" "http_5xx" {
  for_each = local.http_functions

  project      = var.project_id
  display_name = "V-Chat ${var.environment}: ${each.key} answers 5xx"
  combiner     = "OR"

  conditions {
    display_name = "5xx > ${local.http_5xx_ratio * 100} % of ${each.key}'s requests for 5 minutes"
    condition_threshold {
      filter             = "metric.type=\"run.googleapis.com/request_count\" AND resource.type=\"cloud_run_revision\" AND resource.label.service_name=\"${replace(each.key, "_", "-")}\" AND metric.label.response_code_class=\"5xx\""
      denominator_filter = "metric.type=\"run.googleapis.com/request_count\" AND resource.type=\"cloud_run_revision\" AND resource.label.service_name=\"${replace(each.key, "_", "-")}\""
      comparison         = "COMPARISON_GT"
      threshold_value    = local.http_5xx_ratio
      duration           = "300s"

      aggregations {
        alignment_period     = "60s"
        per_series_aligner   = "ALIGN_RATE"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["resource.label.service_name"]
      }
      denominator_aggregations {
        alignment_period     = "60s"
        per_series_aligner   = "ALIGN_RATE"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["resource.label.service_name"]
      }
    }
  }

  notification_channels = local.notification_channels

  documentation {
    content   = "${each.key} answers more than ${local.http_5xx_ratio * 100} % of its requests with a 5xx (bad input is a 4xx, so a 5xx is ours). Runbook: ${var.runbook_url}#http-5xx"
    mime_type = "text/markdown"
  }
}

resource "google_monitoring_alert_policy" "dead_letters" {
  for_each = local.event_functions

  project      = var.project_id
  display_name = "V-Chat ${var.environment}: ${each.key} dead-lettered an event"
  combiner     = "OR"

  conditions {
    display_name = "a message is waiting in ${google_pubsub_subscription.dead_letter_hold[each.key].name}"
    condition_threshold {
      filter          = "metric.type=\"pubsub.googleapis.com/subscription/num_undelivered_messages\" AND resource.type=\"pubsub_subscription\" AND resource.label.subscription_id=\"${google_pubsub_subscription.dead_letter_hold[each.key].name}\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "0s"

      aggregations {
        alignment_period   = "60s"
        per_series_aligner = "ALIGN_MAX"
      }
    }
  }

  notification_channels = local.notification_channels

  documentation {
    content   = "${each.key} failed an event ${local.dead_letter_max_delivery_attempts} times; it is kept in ${google_pubsub_subscription.dead_letter_hold[each.key].name}. Runbook: ${var.runbook_url}#dead-lettered-events"
    mime_type = "text/markdown"
  }
}
