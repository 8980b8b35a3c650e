# One Cloud Scheduler job per manifest schedule, publishing its `data` to the function's topic.
resource "google_cloud_scheduler_job" "jobs" {
  for_each = local.schedules

  project   = var.project_id
  region    = var.region
  name      = "${each.key}-${var.environment}"
  schedule  = each.value.cron
  time_zone = each.value.time_zone

  pubsub_target {
    topic_name = google_pubsub_topic.topics[each.value.topic].id
    data       = base64encode(each.value.data)
  }

  retry_config {
    retry_count = 0 # the next run is the retry: a late duplicate would only overlap with it
  }

  depends_on = [google_project_service.apis]
}
