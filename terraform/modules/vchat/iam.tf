# One service account per function, holding only the roles of the stores it uses (manifest
# `stores`) and access to its own secrets (secrets.tf).
resource "google_service_account" "function" {
  for_each = local.functions

  project      = var.project_id
  account_id   = substr("fn-${replace(each.key, "_", "-")}-${var.environment}", 0, 30)
  display_name = "V-Chat ${each.key} (${var.environment})"
}

resource "google_project_iam_member" "function" {
  for_each = local.function_roles

  project = var.project_id
  role    = each.value.role
  member  = "serviceAccount:${google_service_account.function[each.value.function].email}"
}

# Identity Eventarc and Pub/Sub push use to invoke the event-driven functions.
resource "google_service_account" "events" {
  project      = var.project_id
  account_id   = "vchat-events-${var.environment}"
  display_name = "V-Chat event delivery (${var.environment})"
}

resource "google_project_iam_member" "events_receiver" {
  project = var.project_id
  role    = "roles/eventarc.eventReceiver"
  member  = "serviceAccount:${google_service_account.events.email}"
}

resource "google_cloud_run_service_iam_member" "events_invoker" {
  for_each = merge(local.firestore_triggers, local.pubsub_triggers)

  project  = var.project_id
  location = var.region
  service  = google_cloudfunctions2_function.function[each.key].service_config[0].service
  role     = "roles/run.invoker"
  member   = "serviceAccount:${google_service_account.events.email}"
}

# The HTTP functions are the public API of the web app; each request is authenticated inside the
# function with a Firebase ID token (shared/auth.py), as a browser cannot hold Google credentials.
resource "google_cloud_run_service_iam_member" "http_public" {
  for_each = local.http_functions

  project  = var.project_id
  location = var.region
  service  = google_cloudfunctions2_function.function[each.key].service_config[0].service
  role     = "roles/run.invoker"
  member   = "allUsers" #checkov:skip=CKV_GCP_102:public web API, authenticated by Firebase ID tokens in the function
}

data "google_project" "this" {
  project_id = var.project_id
}

# Eventarc delivers through Pub/Sub push subscriptions that authenticate as the event identity:
# Pub/Sub's service agent mints those OIDC tokens. Projects whose agent predates April 2021 need
# this grant (newer agents carry the permission through their service agent role); it is given
# on the one account whose tokens are minted, not project-wide, so the agent cannot act as any
# other service account.
resource "google_service_account_iam_member" "pubsub_token_creator" {
  service_account_id = google_service_account.events.name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = local.pubsub_service_agent
}

# discord_auth signs Firebase custom tokens with its own service account through the IAM Credentials
# signBlob API (no key file): it may create tokens for itself, and for no other account.
resource "google_service_account_iam_member" "token_signer" {
  for_each = local.token_signers

  service_account_id = google_service_account.function[each.key].name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = "serviceAccount:${google_service_account.function[each.key].email}"
}
