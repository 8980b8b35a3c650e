"""Attach the dead-letter topics Terraform creates to Eventarc's delivery subscriptions.

Eventarc creates the Pub/Sub subscription of each event trigger itself and its API exposes the
subscription as output only, so neither Terraform nor the function's `event_trigger` can set a
dead-letter policy on it. After an apply, `python -m deploy dead-letters` prints the gcloud commands
that do it (find the trigger's subscription, set the dead-letter topic and the number of attempts,
let Pub/Sub's service agent pull from it); pipe them to `bash` (docs/deploy.md). Re-run after a
function's trigger is recreated: a new trigger comes with a new subscription.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping

from deploy.manifest import FunctionSpec

# Same number as terraform/modules/vchat/locals.tf `dead_letter_max_delivery_attempts` (a test
# keeps them equal): Eventarc backs off 10 s .. 600 s, so 10 attempts take about 40 minutes, less
# than MAX_EVENT_AGE_S (1 h) after which the handlers drop an event as too old.
MAX_DELIVERY_ATTEMPTS = 10


def topic_name(function: str) -> str:
    """The dead-letter topic pubsub.tf creates for `function`."""
    return f"dead-letter-{function.replace('_', '-')}"


def event_functions(functions: Mapping[str, FunctionSpec]) -> list[str]:
    return [name for name, spec in functions.items() if spec.trigger_type in ("firestore", "pubsub")]


def commands(functions: Mapping[str, FunctionSpec], project: str, region: str) -> list[str]:
    """A bash script (one line per element) attaching every event function's dead-letter topic."""
    p = shlex.quote(project)
    lines = [
        "set -euo pipefail",
        f"NUMBER=$(gcloud projects describe {p} --format='value(projectNumber)')",
        'AGENT="serviceAccount:service-${NUMBER}@gcp-sa-pubsub.iam.gserviceaccount.com"',
    ]
    for name in event_functions(functions):
        service = shlex.quote(name.replace("_", "-"))
        topic = shlex.quote(f"projects/{project}/topics/{topic_name(name)}")
        lines += [
            f"# {name}",
            f"TRIGGER=$(gcloud functions describe {service} --gen2 --region={shlex.quote(region)} --project={p} "
            "--format='value(eventTrigger.trigger)')",
            "SUB=$(gcloud eventarc triggers describe \"$TRIGGER\" --format='value(transport.pubsub.subscription)')",
            f'gcloud pubsub subscriptions update "$SUB" --dead-letter-topic={topic} '
            f"--max-delivery-attempts={MAX_DELIVERY_ATTEMPTS}",
            # Moving a message to the dead-letter topic acknowledges it on the source subscription:
            # the service agent needs subscriber there (publisher on the topic is in Terraform).
            'gcloud pubsub subscriptions add-iam-policy-binding "$SUB" --member="$AGENT" '
            "--role=roles/pubsub.subscriber > /dev/null",
            f'echo "{name}: $SUB -> {topic_name(name)}"',
        ]
    return lines
