# Upstash Redis (presence, matching queue, rate limits, caches), and the `redis-url` secret every
# Redis-using function reads, built from it. An operator who brings their own Redis sets
# `upstash = { enabled = false }` and adds the secret version by hand (docs/deploy.md): the
# functions refuse any URL that is not rediss:// (TLS) off loopback either way (shared/config.py).
#
# The database's password ends up in the Terraform state (the provider returns it, the secret
# version is built from it): the state bucket must be readable by operators only.
resource "upstash_redis_database" "main" {
  count = var.upstash.enabled ? 1 : 0

  database_name = "vchat-${var.environment}"
  # New Upstash databases are global: one primary region (the functions' writes go there, so it
  # must be the nearest to var.region) and optional read regions.
  region         = "global"
  primary_region = var.upstash.primary_region
  read_regions   = var.upstash.read_regions
  tls            = true
  # The matching queue and presence are data, not a cache: a full database must refuse writes
  # (an error the functions report) rather than silently drop waiting users.
  eviction   = false
  auto_scale = false

  lifecycle {
    precondition {
      condition     = contains(keys(google_secret_manager_secret.secrets), "redis-url")
      error_message = "No function reads the redis-url secret: remove the Upstash database or fix the manifest."
    }
    postcondition {
      condition     = self.tls
      error_message = "The Upstash database must have TLS on: the functions only accept rediss:// URLs."
    }
  }
}

resource "google_secret_manager_secret_version" "redis_url" {
  count = var.upstash.enabled ? 1 : 0

  secret      = google_secret_manager_secret.secrets["redis-url"].id
  secret_data = "rediss://default:${upstash_redis_database.main[0].password}@${upstash_redis_database.main[0].endpoint}:${upstash_redis_database.main[0].port}"
}
