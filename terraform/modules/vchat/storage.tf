# Function sources: the zips `make package` builds. Objects are named by content hash, so a
# `terraform apply` redeploys exactly the functions whose code changed.
resource "google_storage_bucket" "sources" {
  #checkov:skip=CKV_GCP_62:holds only the function zips `make package` builds from this repository; who wrote them is in the Cloud Audit Logs, and an access-log bucket would be a second bucket to secure
  project                     = var.project_id
  name                        = "${var.project_id}-vchat-${var.environment}-sources"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = true # only build artifacts live here
  labels                      = local.labels

  versioning {
    enabled = true
  }

  lifecycle_rule {
    condition {
      age = 30
    }
    action {
      type = "Delete"
    }
  }
}

resource "google_storage_bucket_object" "source" {
  for_each = local.functions

  bucket = google_storage_bucket.sources.name
  name   = "${each.key}/${filemd5("${var.build_dir}/${each.key}.zip")}.zip"
  source = "${var.build_dir}/${each.key}.zip"
}
