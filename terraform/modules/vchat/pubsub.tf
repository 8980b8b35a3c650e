resource "google_pubsub_topic" "topics" {
  for_each = local.topics

  project                    = var.project_id
  name                       = each.value
  labels                     = local.labels
  message_retention_duration = "86400s"

  depends_on = [google_project_service.apis]
}
