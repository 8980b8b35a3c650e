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
