resource "google_pubsub_topic" "topics" {
  #checkov:skip=CKV_GCP_83:job triggers ({"kind": ...}) and user ids only, Google-managed encryption at rest; a CMEK key ring per environment is not worth its operations here
  for_each = local.topics

  project                    = var.project_id
  name                       = each.value
  labels                     = local.labels
  message_retention_duration = "86400s"

  depends_on = [google_project_service.apis]
}

# Dead letters: an event a function failed on max_delivery_attempts times (see local.dead_letter)
# is moved here instead of being retried until it expires, kept for 7 days on a pull subscription
# nobody consumes, and alerts (alerts.tf). Eventarc creates the delivery subscription of each
# trigger itself and the API does not let Terraform set its dead-letter policy (the field is
# output only), so `python -m deploy dead-letters` attaches these topics after an apply
# (docs/deploy.md).
resource "google_pubsub_topic" "dead_letter" {
  #checkov:skip=CKV_GCP_83:failed events (room and user documents, job triggers), Google-managed encryption at rest like their source; kept 7 days
  for_each = local.event_functions

  project                    = var.project_id
  name                       = "dead-letter-${replace(each.key, "_", "-")}"
  labels                     = local.labels
  message_retention_duration = "604800s"

  depends_on = [google_project_service.apis]
}

# Without a subscription a dead-lettered message would be dropped: this one holds them for
# inspection and replay (docs/operations.md#dead-lettered-events).
resource "google_pubsub_subscription" "dead_letter_hold" {
  for_each = local.event_functions

  project                    = var.project_id
  name                       = "dead-letter-${replace(each.key, "_", "-")}-hold"
  topic                      = google_pubsub_topic.dead_letter[each.key].id
  labels                     = local.labels
  message_retention_duration = "604800s"
  retain_acked_messages      = false
  ack_deadline_seconds       = 600

  expiration_policy {
    ttl = "" # never expires for lack of activity: it is read only when something went wrong
  }
}

# The Pub/Sub service agent publishes dead letters; it may do so on these topics only.
resource "google_pubsub_topic_iam_member" "dead_letter_publisher" {
  for_each = local.event_functions

  project = var.project_id
  topic   = google_pubsub_topic.dead_letter[each.key].name
  role    = "roles/pubsub.publisher"
  member  = local.pubsub_service_agent
}
