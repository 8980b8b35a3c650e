# Everything deployed is derived from the files the local stack and the tests also read:
# functions/manifest.yaml, firestore.rules and firestore.indexes.json.
locals {
  manifest = yamldecode(file("${var.repo_root}/functions/manifest.yaml"))

  # Each function with the manifest's defaults filled in, as objects of one shape (Terraform maps
  # need one element type, so optional parts become empty collections or null).
  defaults = local.manifest.defaults
  functions = {
    for name, spec in local.manifest.functions : name => {
      entry_point   = spec.entry_point
      runtime       = try(spec.runtime, local.defaults.runtime)
      memory_mb     = try(spec.memory_mb, local.defaults.memory_mb)
      timeout_s     = try(spec.timeout_s, local.defaults.timeout_s)
      min_instances = try(spec.min_instances, local.defaults.min_instances)
      max_instances = try(spec.max_instances, local.defaults.max_instances)
      concurrency   = try(spec.concurrency, local.defaults.concurrency)
      trigger_type  = spec.trigger.type
      document      = try(spec.trigger.document, null)
      event_type    = try(spec.trigger.event_type, null)
      topic         = try(spec.trigger.topic, null)
      stores        = tolist([for store in try(spec.stores, []) : store])
      # Granted to the function's IAM database user by `python -m deploy grant-roles` (SQL, not an
      # API Terraform has): listed here for the outputs and the documentation.
      database_roles = tolist([for role in try(spec.database_roles, []) : role])
      secrets        = { for env_name, secret in try(spec.secrets, {}) : env_name => secret }
      env            = { for env_name, value in try(spec.env, {}) : env_name => tostring(value) }
      schedules = [
        for s in try(spec.schedules, []) : {
          name        = s.name
          cron        = s.cron
          time_zone   = s.time_zone
          data        = jsonencode(try(s.data, {}))
          interval_s  = s.interval_s
          success_log = s.success_log
        }
      ]
    }
  }

  http_functions     = { for name, f in local.functions : name => f if f.trigger_type == "http" }
  firestore_triggers = { for name, f in local.functions : name => f if f.trigger_type == "firestore" }
  pubsub_triggers    = { for name, f in local.functions : name => f if f.trigger_type == "pubsub" }

  topics = toset([for t in values(local.pubsub_triggers) : t.topic])

  # Cloud Scheduler jobs keyed by schedule name, each publishing to its function's topic.
  schedules = merge([
    for name, f in local.functions : {
      for s in f.schedules : s.name => {
        function    = name
        service     = replace(name, "_", "-") # the Cloud Run service of a 2nd-gen function
        topic       = f.topic
        cron        = s.cron
        time_zone   = s.time_zone
        data        = s.data # JSON text
        interval_s  = s.interval_s
        success_log = s.success_log
      }
    }
  ]...)

  # Event-driven functions (Eventarc delivers through a Pub/Sub subscription): each gets a
  # dead-letter topic for the events it could not handle.
  event_functions = merge(local.firestore_triggers, local.pubsub_triggers)
  # How often Pub/Sub delivers an event before dead-lettering it. Eventarc backs off from 10 s to
  # 600 s, so 10 attempts take about 40 minutes: under MAX_EVENT_AGE_S (1 h), after which the
  # handlers drop an event as too old, so a failing event is kept, not silently dropped.
  dead_letter_max_delivery_attempts = 10
  pubsub_service_agent              = "serviceAccount:service-${data.google_project.this.number}@gcp-sa-pubsub.iam.gserviceaccount.com"

  # Secrets of the functions and of the Cloud Run services (realtime.tf).
  secret_ids = toset(flatten(concat(
    [for f in values(local.functions) : values(f.secrets)],
    [for s in values(try(local.manifest.services, {})) : values(try(s.secrets, {}))],
  )))

  # One (function, secret) pair per secret a function reads: its accessor grant.
  secret_access = merge([
    for name, f in local.functions : {
      for env_name, secret in f.secrets : "${name}/${secret}" => { function = name, secret = secret }
    }
  ]...)

  postgres_functions = toset([for name, f in local.functions : name if contains(f.stores, "postgres")])

  # Per-deployment Discord settings: a function gets those of its manifest `env` keys it declares.
  discord_env = {
    DISCORD_API_URL          = var.discord.api_url
    DISCORD_AUTHORIZE_URL    = var.discord.authorize_url
    DISCORD_APPLICATION_ID   = var.discord.application_id
    DISCORD_CLIENT_ID        = coalesce(var.discord.client_id, var.discord.application_id)
    DISCORD_GUILD_ID         = var.discord.guild_id
    DISCORD_CHANNEL_ID       = var.discord.channel_id
    DISCORD_STAFF_CHANNEL_ID = var.discord.staff_channel_id
    DISCORD_STAFF_ROLE_ID    = var.discord.staff_role_id
  }

  # Functions that mint Firebase custom tokens by signing with their own service account (IAM
  # Credentials signBlob).
  token_signers = toset([for name in ["discord_auth"] : name if contains(keys(local.functions), name)])

  # What each function runs with. Computed here so that a precondition (functions.tf) and the
  # offline tests see exactly the map the function is deployed with.
  function_env = {
    for name, f in local.functions : name => merge(
      f.env,
      {
        GOOGLE_CLOUD_PROJECT  = var.project_id
        CORS_ALLOWED_ORIGINS  = join(",", var.cors_allowed_origins)
        SERVICE_ACCOUNT_EMAIL = google_service_account.function[name].email
        # functions-framework's gunicorn runs cpu_count x 4 threads unless told: as many threads
        # as the requests Cloud Run sends an instance at once, as the local stack runs them.
        THREADS = tostring(f.concurrency)
        # One Firestore read stream lasts no longer than the function's timeout: past it the
        # platform has ended the request (or the event's delivery), and nobody waits for the answer.
        FIRESTORE_READ_DEADLINE_S = tostring(min(f.timeout_s, 300))
      },
      contains(keys(f.env), "LIVEKIT_URL") ? { LIVEKIT_URL = var.livekit_url } : {},
      { for key, value in local.discord_env : key => value if contains(keys(f.env), key) },
      contains(local.postgres_functions, name) ? {
        CLOUD_SQL_INSTANCE = google_sql_database_instance.main.connection_name
        DB_NAME            = google_sql_database.vchat.name
        DB_IAM_USER        = trimsuffix(google_service_account.function[name].email, ".gserviceaccount.com")
      } : {},
    )
  }
  # Names and values that only belong on a developer's machine (deploy/manifest.py has the same
  # rule for the manifest): emulator hosts, the direct DATABASE_URL, debug switches, plain-text URLs.
  development_only_env = "^([A-Z0-9_]+_EMULATOR_HOST|DATABASE_URL|DEBUG|FLASK_DEBUG|FLASK_ENV|PYTHONDEVMODE|VCHAT_[A-Z0-9_]+)$"
  plain_text_url       = "^(http|redis|ws)://"

  # Project roles each store needs, granted to the service account of each function using it.
  store_roles = {
    firestore = ["roles/datastore.user"]
    pubsub    = ["roles/pubsub.publisher"]
    postgres  = ["roles/cloudsql.client", "roles/cloudsql.instanceUser"]
    redis     = []                           # Upstash over TLS with a password from Secret Manager: no Google role
    auth      = ["roles/firebaseauth.admin"] # disable a banned account, delete a deleted one
  }
  function_roles = merge([
    for name, f in local.functions : {
      for pair in setproduct([name], flatten([for store in f.stores : local.store_roles[store]])) :
      "${pair[0]}/${pair[1]}" => { function = pair[0], role = pair[1] }
    }
  ]...)

  indexes_file = jsondecode(file("${var.repo_root}/firestore.indexes.json"))
  indexes = {
    for index in local.indexes_file.indexes :
    "${index.collectionGroup}:${join(",", [for f in index.fields : "${f.fieldPath}:${try(f.order, f.arrayConfig)}"])}" => index
  }
  field_overrides = { for o in local.indexes_file.fieldOverrides : "${o.collectionGroup}.${o.fieldPath}" => o }
  # Three kinds of override: large fields exempt from indexing; TTL fields (Firestore deletes a
  # document once the field's time has passed; exempt too, as Google advises for timestamps that
  # only grow); fields given their own single-field indexes (collection-group scope).
  exempt_fields  = { for key, o in local.field_overrides : key => o if length(o.indexes) == 0 && !try(o.ttl, false) }
  ttl_fields     = { for key, o in local.field_overrides : key => o if try(o.ttl, false) }
  indexed_fields = { for key, o in local.field_overrides : key => o if length(o.indexes) > 0 }

  labels = merge(var.labels, { app = "vchat", environment = var.environment })
}
