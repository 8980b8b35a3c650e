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
      secrets       = { for env_name, secret in try(spec.secrets, {}) : env_name => secret }
      env           = { for env_name, value in try(spec.env, {}) : env_name => tostring(value) }
      schedules = [
        for s in try(spec.schedules, []) : {
          name      = s.name
          cron      = s.cron
          time_zone = s.time_zone
          data      = jsonencode(try(s.data, {}))
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
        function  = name
        topic     = f.topic
        cron      = s.cron
        time_zone = s.time_zone
        data      = s.data # JSON text
      }
    }
  ]...)

  secret_ids = toset(flatten([for f in values(local.functions) : values(f.secrets)]))

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

  # Project roles each store needs, granted to the service account of each function using it.
  store_roles = {
    firestore = ["roles/datastore.user"]
    pubsub    = ["roles/pubsub.publisher"]
    postgres  = ["roles/cloudsql.client", "roles/cloudsql.instanceUser"]
    redis     = [] # Upstash over TLS with a password from Secret Manager: no Google role
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

  labels = merge(var.labels, { app = "vchat", environment = var.environment })
}
