output "http_function_urls" {
  description = "Base URL of each HTTP function (the web app's API)."
  value       = { for name, _ in local.http_functions : name => google_cloudfunctions2_function.function[name].url }
}

output "sql_connection_name" {
  description = "PROJECT:REGION:INSTANCE of Cloud SQL, for the Cloud SQL Auth Proxy when running migrations."
  value       = google_sql_database_instance.main.connection_name
}

output "function_service_accounts" {
  description = "The service account each function runs as."
  value       = { for name, sa in google_service_account.function : name => sa.email }
}

output "secret_ids" {
  description = "Secret Manager secrets that need a version before the first deploy."
  value       = sort(tolist(local.secret_ids))
}

output "database_logins" {
  description = "Each Postgres-using function's IAM database user and the group roles `python -m deploy grant-roles` gives it."
  value = {
    for name in local.postgres_functions : name => {
      user  = google_sql_user.function[name].name
      roles = local.functions[name].database_roles
    }
  }
}

output "dead_letter_topics" {
  description = "The dead-letter topic of each event-driven function; `python -m deploy dead-letters` attaches them to Eventarc's delivery subscriptions."
  value = {
    for name, topic in google_pubsub_topic.dead_letter : name => {
      topic                 = topic.id
      max_delivery_attempts = local.dead_letter_max_delivery_attempts
    }
  }
}
