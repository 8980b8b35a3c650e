# Cloud SQL has only a private IP; functions that use PostgreSQL reach it through a Serverless
# VPC Access connector (egress to private ranges only).
resource "google_compute_network" "vpc" {
  project                 = var.project_id
  name                    = "vchat-${var.environment}"
  auto_create_subnetworks = false

  depends_on = [google_project_service.apis]
}

# Nothing in this network serves traffic (it carries the connector's egress to Cloud SQL), so
# nothing may come in. Explicit, and logged, rather than the implied rule nobody sees; the
# connector's own rules (created by Serverless VPC Access at priority 1000) take precedence.
resource "google_compute_firewall" "deny_all_ingress" {
  project   = var.project_id
  name      = "vchat-${var.environment}-deny-all-ingress"
  network   = google_compute_network.vpc.name
  direction = "INGRESS"
  priority  = 65534

  source_ranges = ["0.0.0.0/0"]
  deny {
    protocol = "all"
  }

  log_config {
    metadata = "INCLUDE_ALL_METADATA"
  }
}

resource "google_compute_global_address" "sql_range" {
  project       = var.project_id
  name          = "vchat-${var.environment}-sql-range"
  purpose       = "VPC_PEERING"
  address_type  = "INTERNAL"
  prefix_length = 20
  network       = google_compute_network.vpc.id
}

resource "google_service_networking_connection" "sql" {
  network                 = google_compute_network.vpc.id
  service                 = "servicenetworking.googleapis.com"
  reserved_peering_ranges = [google_compute_global_address.sql_range.name]
}

resource "google_vpc_access_connector" "connector" {
  project       = var.project_id
  name          = "vchat-${var.environment}"
  region        = var.region
  network       = google_compute_network.vpc.name
  ip_cidr_range = var.connector_cidr
  min_instances = 2
  max_instances = 3
}
