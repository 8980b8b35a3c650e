resource "google_firestore_database" "main" {
  project                 = var.project_id
  name                    = "(default)"
  location_id             = var.firestore_location
  type                    = "FIRESTORE_NATIVE"
  delete_protection_state = var.deletion_protection ? "DELETE_PROTECTION_ENABLED" : "DELETE_PROTECTION_DISABLED"
  deletion_policy         = var.deletion_protection ? "ABANDON" : "DELETE"

  point_in_time_recovery_enablement = "POINT_IN_TIME_RECOVERY_ENABLED"

  depends_on = [google_project_service.apis]
}

# firestore.rules, the file the emulator enforces and tests/test_rules.py proves.
resource "google_firebaserules_ruleset" "firestore" {
  project = var.project_id

  source {
    files {
      name    = "firestore.rules"
      content = file("${var.repo_root}/firestore.rules")
    }
  }

  lifecycle {
    create_before_destroy = true
  }

  depends_on = [google_firestore_database.main]
}

resource "google_firebaserules_release" "firestore" {
  project      = var.project_id
  name         = "cloud.firestore"
  ruleset_name = google_firebaserules_ruleset.firestore.name

  lifecycle {
    replace_triggered_by = [google_firebaserules_ruleset.firestore]
  }
}

# The composite indexes of firestore.indexes.json (tests/test_indexes.py keeps them equal to what
# the queries need).
resource "google_firestore_index" "indexes" {
  for_each = local.indexes

  project     = var.project_id
  database    = google_firestore_database.main.name
  collection  = each.value.collectionGroup
  query_scope = each.value.queryScope

  dynamic "fields" {
    for_each = each.value.fields
    content {
      field_path   = fields.value.fieldPath
      order        = try(fields.value.order, null)
      array_config = try(fields.value.arrayConfig, null)
    }
  }
}

# Field overrides with no indexes: large fields exempt from single-field indexing.
resource "google_firestore_field" "exempt" {
  for_each = local.exempt_fields

  project    = var.project_id
  database   = google_firestore_database.main.name
  collection = each.value.collectionGroup
  field      = each.value.fieldPath

  index_config {}
}

# Retention: the TTL policy of each collection group (firestore.indexes.json `"ttl": true`; the
# server writes these fields where the thing ends: shared/vocab.py TTL_FIELDS, README "Retention").
# Firestore deletes a document some time after the field's time has passed.
resource "google_firestore_field" "ttl" {
  for_each = local.ttl_fields

  project    = var.project_id
  database   = google_firestore_database.main.name
  collection = each.value.collectionGroup
  field      = each.value.fieldPath

  index_config {}
  ttl_config {}
}

# Single-field indexes beyond the automatic ones: collection-group scope (e.g. who blocked a user,
# for the account deletion job and the Redis mirror's rebuild).
resource "google_firestore_field" "indexed" {
  for_each = local.indexed_fields

  project    = var.project_id
  database   = google_firestore_database.main.name
  collection = each.value.collectionGroup
  field      = each.value.fieldPath

  index_config {
    dynamic "indexes" {
      for_each = each.value.indexes
      content {
        query_scope  = indexes.value.queryScope
        order        = try(indexes.value.order, null)
        array_config = try(indexes.value.arrayConfig, null)
      }
    }
  }
}
