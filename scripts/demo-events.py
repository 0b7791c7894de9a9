#!/usr/bin/env python3
"""A realistic day of ECS events for `make demo`, and the clean-up of an earlier demo's items.

    demo-events.py generate --anchor EPOCH --out DIR [--cluster demo] REGION [REGION ...]
        Writes DIR/<region>/NNN-<what>.json (one EventBridge event each, NNN = delivery order,
        duplicates and out-of-order deliveries included), DIR/manifest.json and
        DIR/scenario.env (names the demo queries). Deterministic: the same anchor (epoch
        seconds, "now" of the day) gives byte-identical files, so a second replay of them is
        all duplicates. Every event lies within the 16 hours before the anchor.

    demo-events.py purge --endpoint URL --table NAME [--cluster demo] REGION [REGION ...]
        Deletes the items of the demo cluster from each region's table at the local endpoint,
        so a new day does not mix with an earlier one.

Regions are arguments (from environments/<env>/terraform.tfvars.json); none is named here.
"""
import argparse
import hashlib
import json
import pathlib
import shutil
import sys
import uuid
from datetime import datetime, timedelta, timezone

ACCOUNT = "123456789012"
# Event ids are UUIDv5 in this namespace: stable across runs with the same anchor.
NAMESPACE = uuid.UUID("6f1d8f3e-52c4-4a8e-9d1b-3c0e7a9b5d21")


def iso(time):
    """ECS's own format: UTC, milliseconds, Z."""
    return time.strftime("%Y-%m-%dT%H:%M:%S.") + f"{time.microsecond // 1000:03d}Z"


def whole_seconds(time):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ")


class Day:
    """The events of one region's day, with their delivery times."""

    def __init__(self, anchor, region, cluster):
        self.anchor = anchor
        self.region = region
        self.cluster = cluster
        self.deliveries = []  # (delivered at, sequence, label, event)
        self.duplicates = 0
        self.sequence = 0

    def at(self, minutes):
        """`minutes` before the anchor (fractions allowed)."""
        return self.anchor - timedelta(minutes=minutes)

    def arn(self, kind, name):
        return f"arn:aws:ecs:{self.region}:{ACCOUNT}:{kind}/{name}"

    def task_id(self, name):
        return hashlib.sha256(f"{self.anchor.isoformat()}/{self.region}/{name}".encode()).hexdigest()[:32]

    def deliver(self, label, event, delay_seconds=2.0):
        delivered = datetime.fromisoformat(event["time"].replace("Z", "+00:00")) + timedelta(seconds=delay_seconds)
        self.sequence += 1
        self.deliveries.append((delivered, self.sequence, label, event))

    def duplicate(self, label, event, delay_seconds, new_id=False):
        """EventBridge's at-least-once delivery: the same event again (possibly with a new id)."""
        copy = json.loads(json.dumps(event))
        if new_id:
            copy["id"] = str(uuid.uuid5(NAMESPACE, f"{copy['id']}/redelivery"))
        self.duplicates += 1
        self.deliver(f"{label}-duplicate", copy, delay_seconds)

    def envelope(self, detail_type, resource, time, detail, key):
        return {
            "version": "0",
            "id": str(uuid.uuid5(NAMESPACE, f"{self.anchor.isoformat()}/{self.region}/{key}")),
            "detail-type": detail_type,
            "source": "aws.ecs",
            "account": ACCOUNT,
            "time": whole_seconds(time),
            "region": self.region,
            "resources": [resource],
            "detail": detail,
        }

    def service_action(self, service, name, kind, minutes, reason=None, providers=None):
        detail = {
            "clusterArn": self.arn("cluster", self.cluster),
            "eventType": kind,
            "eventName": name,
            "createdAt": iso(self.at(minutes)),
        }
        if reason:
            detail["reason"] = reason
        if providers:
            detail["capacityProviderArns"] = [self.arn("capacity-provider", p) for p in providers]
        resource = self.arn("service", f"{self.cluster}/{service}")
        return self.envelope("ECS Service Action", resource, self.at(minutes), detail, f"{service}/{name}/{minutes}")

    def deployment(self, service, name, kind, minutes, deployment_id, reason):
        detail = {
            "eventType": kind,
            "eventName": name,
            "deploymentId": deployment_id,
            "updatedAt": iso(self.at(minutes)),
            "reason": reason,
        }
        resource = self.arn("service", f"{self.cluster}/{service}")
        return self.envelope("ECS Deployment State Change", resource, self.at(minutes), detail, f"{service}/{name}/{minutes}")

    def container_instance(self, name, ec2_id, version, status, minutes, running, connected=True):
        detail = {
            "clusterArn": self.arn("cluster", self.cluster),
            "containerInstanceArn": self.arn("container-instance", f"{self.cluster}/{self.task_id(name)}"),
            "ec2InstanceId": ec2_id,
            "status": status,
            "agentConnected": connected,
            "runningTasksCount": running,
            "pendingTasksCount": 0,
            "versionInfo": {"agentVersion": "1.89.2", "dockerVersion": "DockerVersion: 25.0.8"},
            "version": version,
            "updatedAt": iso(self.at(minutes)),
        }
        return self.envelope(
            "ECS Container Instance State Change", detail["containerInstanceArn"], self.at(minutes), detail, f"{name}/{version}"
        )


class Task:
    """One task's state changes, versioned as ECS versions them."""

    def __init__(self, day, name, definition, containers, group=None, fargate=True, capacity=None, started_by=None):
        self.day = day
        self.name = name
        self.id = day.task_id(name)
        self.arn = day.arn("task", f"{day.cluster}/{self.id}")
        self.definition = definition
        self.family = definition.split(":")[0]
        self.group = group or f"family:{self.family}"
        self.fargate = fargate
        self.capacity = capacity or ("FARGATE" if fargate else "demo-asg")
        self.containers = containers  # [(name, image)]
        self.started_by = started_by

    def lifecycle(self, created, started=None, stopped=None, stop_code=None, stopped_reason=None, exits=None, reasons=None):
        """The task's events, oldest first: [(label, event)]. Times in minutes before the anchor."""
        day = self.day
        times = {"createdAt": day.at(created)}
        steps = []  # (time, lastStatus, desiredStatus)
        if self.fargate:
            steps.append((day.at(created), "PROVISIONING", "RUNNING"))
            steps.append((day.at(created - 0.4), "PENDING", "RUNNING"))
        else:
            steps.append((day.at(created), "PENDING", "RUNNING"))
        if started is not None:
            steps.append((day.at(started), "RUNNING", "RUNNING"))
        if stopped is not None:
            if started is not None and self.fargate:
                steps.append((day.at(stopped + 0.5), "RUNNING", "STOPPED"))
                steps.append((day.at(stopped + 0.2), "DEPROVISIONING", "STOPPED"))
            elif self.fargate:
                steps.append((day.at(stopped + 0.2), "DEPROVISIONING", "STOPPED"))
            steps.append((day.at(stopped), "STOPPED", "STOPPED"))
        events = []
        for version, (time, last, desired) in enumerate(steps, start=1):
            if last in ("PENDING", "RUNNING") and "pullStartedAt" not in times and (started is not None or stopped is not None):
                times["pullStartedAt"] = time + timedelta(seconds=3)
            if last == "RUNNING" and "startedAt" not in times:
                times["pullStoppedAt"] = time - timedelta(seconds=4)
                times["startedAt"] = time
            if desired == "STOPPED" and "stoppingAt" not in times:
                times["stoppingAt"] = time
            if last == "STOPPED":
                times["executionStoppedAt"] = time - timedelta(seconds=1)
                times["stoppedAt"] = time
            containers = []
            for name, image in self.containers:
                container = {
                    "containerArn": day.arn("container", f"{day.cluster}/{self.id}/{uuid.uuid5(NAMESPACE, self.id + name)}"),
                    "name": name,
                    "image": image,
                    "lastStatus": {"PROVISIONING": "PENDING", "DEPROVISIONING": "STOPPED"}.get(last, last),
                    "taskArn": self.arn,
                }
                if last in ("STOPPED", "DEPROVISIONING") and exits and name in exits:
                    container["exitCode"] = exits[name]
                if last == "STOPPED" and reasons and name in reasons:
                    container["reason"] = reasons[name]
                containers.append(container)
            detail = {
                "taskArn": self.arn,
                "clusterArn": day.arn("cluster", day.cluster),
                "taskDefinitionArn": day.arn("task-definition", self.definition),
                "group": self.group,
                "launchType": "FARGATE" if self.fargate else "EC2",
                "capacityProviderName": self.capacity,
                "availabilityZone": f"{day.region}{'abc'[int(self.id, 16) % 3]}",
                "cpu": "512",
                "memory": "1024",
                "lastStatus": last,
                "desiredStatus": desired,
                "containers": containers,
                "version": version,
                "updatedAt": iso(time),
            }
            if self.fargate:
                detail["platformVersion"] = "1.4.0"
            else:
                detail["containerInstanceArn"] = day.arn("container-instance", f"{day.cluster}/{day.task_id('instance-1')}")
            if self.started_by:
                detail["startedBy"] = self.started_by
            for key, value in times.items():
                if value <= time:
                    detail[key] = iso(value)
            if desired == "STOPPED" and stop_code:
                detail["stopCode"] = stop_code
                detail["stoppedReason"] = stopped_reason
            event = day.envelope("ECS Task State Change", self.arn, time, detail, f"{self.name}/{version}")
            events.append((f"{self.name}-v{version}-{last.lower()}", event))
        return events


def deliver_all(day, events, late=None, twice=None, twice_new_id=None):
    """Delivers events at their time; `late` maps a label to a delay in seconds (out of order),
    `twice` / `twice_new_id` name events delivered again."""
    for label, event in events:
        day.deliver(label, event, (late or {}).get(label, 2.0))
        if label in (twice or ()):
            day.duplicate(label, event, 45.0)
        if label in (twice_new_id or ()):
            day.duplicate(label, event, 90.0, new_id=True)


def image(day, repository, tag):
    return f"{ACCOUNT}.dkr.ecr.{day.region}.amazonaws.com/{repository}:{tag}"


def fargate_day(day):
    """A Fargate cluster: a web deployment that fails and rolls back, a Spot interruption with a
    placement failure, a scheduled job whose new revision cannot pull its image."""
    old_deploy, new_deploy, rollback = "ecs-svc/5718203941726354012", "ecs-svc/7301234567890123456", "ecs-svc/8123456789012345678"
    web = [("web", image(day, "web", "2.14.3")), ("log-router", "public.ecr.aws/aws-observability/aws-for-fluent-bit:2.32.2")]
    web_new = [("web", image(day, "web", "2.15.0")), web[1]]
    for name, created in (("web-a", 960), ("web-b", 958)):
        task = Task(day, name, "web:41", web, group="service:web", started_by=old_deploy)
        deliver_all(day, task.lifecycle(created, started=created - 1.2))
    deliver_all(
        day,
        [("web-deploy-in-progress", day.deployment("web", "SERVICE_DEPLOYMENT_IN_PROGRESS", "INFO", 360, new_deploy, f"ECS deployment {new_deploy} in progress."))],
    )
    for index, created in enumerate((359, 355, 351), start=1):
        task = Task(day, f"web-new-{index}", "web:42", web_new, group="service:web", started_by=new_deploy)
        events = task.lifecycle(
            created,
            started=created - 1.5,
            stopped=created - 3.2,
            stop_code="EssentialContainerExited",
            stopped_reason="Essential container in task exited",
            exits={"web": 1, "log-router": 0},
        )
        # the first one's STOPPED arrives before its last RUNNING events
        late = {f"web-new-1-v{v}-{s}": 60.0 for v, s in ((4, "running"), (5, "deprovisioning"))} if index == 1 else None
        deliver_all(day, events, late=late)
    failed = day.deployment(
        "web", "SERVICE_DEPLOYMENT_FAILED", "ERROR", 347.5, new_deploy, "ECS deployment circuit breaker: tasks failed to start."
    )
    deliver_all(day, [("web-deploy-failed", failed)], twice=["web-deploy-failed"])
    deliver_all(
        day,
        [
            (
                "web-rollback-in-progress",
                day.deployment(
                    "web", "SERVICE_DEPLOYMENT_IN_PROGRESS", "INFO", 347.49, rollback,
                    f"ECS deployment circuit breaker: rolling back to deploymentId {old_deploy}.",
                ),
            ),
            ("web-rollback-completed", day.deployment("web", "SERVICE_DEPLOYMENT_COMPLETED", "INFO", 340, rollback, f"ECS deployment {rollback} completed.")),
            ("web-steady-state", day.service_action("web", "SERVICE_STEADY_STATE", "INFO", 335)),
        ],
    )

    worker = [("worker", image(day, "worker", "1.8.4"))]
    spot = Task(day, "worker-a", "worker:9", worker, group="service:worker", capacity="FARGATE_SPOT", started_by="ecs-svc/6617283940516273849")
    deliver_all(
        day,
        spot.lifecycle(900, started=898.8, stopped=180, stop_code="SpotInterruption", stopped_reason="Your Spot Task was interrupted.", exits={"worker": 0}),
        twice_new_id=["worker-a-v6-stopped"],
    )
    deliver_all(
        day,
        [("worker-placement-failure", day.service_action("worker", "SERVICE_TASK_PLACEMENT_FAILURE", "ERROR", 179.5, "RESOURCE:FARGATE", ["FARGATE_SPOT"]))],
    )
    for name, created in (("worker-b", 880), ("worker-c", 172)):
        task = Task(day, name, "worker:9", worker, group="service:worker", capacity="FARGATE_SPOT", started_by="ecs-svc/6617283940516273849")
        deliver_all(day, task.lifecycle(created, started=created - 1.1))

    for name, definition, created, tag in (("report-1", "report:12", 720, "3.2.0"), ("report-2", "report:12", 480, "3.2.0")):
        task = Task(day, name, definition, [("report", image(day, "report", tag))], started_by="events-rule/report-every-4h")
        deliver_all(
            day,
            task.lifecycle(
                created, started=created - 0.9, stopped=created - 24, stop_code="EssentialContainerExited",
                stopped_reason="Essential container in task exited", exits={"report": 0},
            ),
        )
    broken = Task(day, "report-3", "report:13", [("report", image(day, "report", "3.3.0-rc1"))], started_by="events-rule/report-every-4h")
    pull_error = (
        f"CannotPullContainerError: pull image manifest has been retried 7 time(s): failed to resolve ref "
        f"{image(day, 'report', '3.3.0-rc1')}: not found"
    )
    events = broken.lifecycle(240, stopped=238.6, stop_code="TaskFailedToStart", stopped_reason=pull_error, reasons={"report": pull_error})
    # its STOPPED event overtakes PROVISIONING and PENDING
    deliver_all(day, events, late={"report-3-v1-provisioning": 120.0, "report-3-v2-pending": 121.0})
    rerun = Task(day, "report-4", "report:12", [("report", image(day, "report", "3.2.0"))], started_by="ops/manual-rerun")
    deliver_all(
        day,
        rerun.lifecycle(226, started=225.1, stopped=203, stop_code="EssentialContainerExited", stopped_reason="Essential container in task exited", exits={"report": 0}),
    )


def ec2_day(day):
    """An EC2 cluster: an out-of-memory kill, a placement failure for memory until a new
    instance joins, a scale-in, healthy services."""
    ingest = [("ingest", image(day, "ingest", "5.3.0")), ("xray-daemon", "public.ecr.aws/xray/aws-xray-daemon:3.3.12")]
    ingest_deploy = "ecs-svc/2208765432109876543"
    oom = Task(day, "ingest-a", "ingest:17", ingest, group="service:ingest", fargate=False, started_by=ingest_deploy)
    oom_events = oom.lifecycle(
        940, started=939, stopped=420, stop_code="EssentialContainerExited", stopped_reason="Essential container in task exited",
        exits={"ingest": 137, "xray-daemon": 143}, reasons={"ingest": "OutOfMemoryError: Container killed due to memory usage"},
    )
    deliver_all(day, oom_events, twice=["ingest-a-v3-stopped"])
    deliver_all(
        day,
        [
            (
                "ingest-placement-failure",
                day.service_action(
                    "ingest", "SERVICE_TASK_PLACEMENT_FAILURE", "ERROR", 419.5,
                    "RESOURCE:MEMORY", ["demo-asg"],
                ),
            ),
            ("instance-2-registered", day.container_instance("instance-2", "i-0b7f2c9d4e6a81357", 1, "ACTIVE", 412, 0)),
        ],
    )
    for name, created in (("ingest-b", 410), ("ingest-c", 938)):
        task = Task(day, name, "ingest:17", ingest, group="service:ingest", fargate=False, started_by=ingest_deploy)
        # the replacement's PENDING arrives after its RUNNING
        late = {"ingest-b-v1-pending": 90.0} if name == "ingest-b" else None
        deliver_all(day, task.lifecycle(created, started=created - 0.8), late=late)

    api = [("api", image(day, "api", "8.1.0"))]
    api_deploy = "ecs-svc/3344556677889900112"
    deliver_all(day, Task(day, "api-a", "api:8", api, group="service:api", fargate=False, started_by=api_deploy).lifecycle(930, started=929.4))
    scaled_in = Task(day, "api-b", "api:8", api, group="service:api", fargate=False, started_by=api_deploy)
    events = scaled_in.lifecycle(
        925, started=924.5, stopped=600, stop_code="ServiceSchedulerInitiated",
        stopped_reason=f"Scaling activity initiated by (deployment {api_deploy})", exits={"api": 0},
    )
    deliver_all(day, events)
    # the load balancer finds a task unhealthy; ECS codes the stop like a scale-in
    unhealthy = Task(day, "api-c", "api:8", api, group="service:api", fargate=False, started_by=api_deploy)
    target_group = f"arn:aws:elasticloadbalancing:{day.region}:{ACCOUNT}:targetgroup/api/6d0ecf831eec9f09"
    deliver_all(day, unhealthy.lifecycle(
        700, started=699.2, stopped=655, stop_code="ServiceSchedulerInitiated",
        stopped_reason=f"Task failed ELB health checks in (target-group {target_group})", exits={"api": 143},
    ))
    deliver_all(day, Task(day, "api-d", "api:8", api, group="service:api", fargate=False, started_by=api_deploy).lifecycle(654, started=653.3))
    deliver_all(day, [("api-steady-state", day.service_action("api", "SERVICE_STEADY_STATE", "INFO", 590))], twice=["api-steady-state"])


def generate(args):
    anchor = datetime.fromtimestamp(args.anchor, tz=timezone.utc).replace(microsecond=0)
    out = pathlib.Path(args.out)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    regions = args.regions
    plan = {regions[0]: [fargate_day, ec2_day]} if len(regions) == 1 else {r: [(fargate_day, ec2_day)[i % 2]] for i, r in enumerate(regions)}
    manifest = {"anchor": iso(anchor), "cluster": args.cluster, "regions": {}}
    scenario = {"DEMO_CLUSTER": args.cluster, "DEMO_ANCHOR": iso(anchor)}
    for region, builders in plan.items():
        day = Day(anchor, region, args.cluster)
        for build in builders:
            build(day)
            if build is fargate_day:
                scenario.setdefault("DEPLOY_REGION", region)
                scenario.setdefault("PULL_REGION", region)
            else:
                scenario.setdefault("OOM_REGION", region)
                scenario.setdefault("OOM_TASK", f"{args.cluster}/{day.task_id('ingest-a')[:12]}")
        directory = out / region
        directory.mkdir()
        deliveries = sorted(day.deliveries, key=lambda d: (d[0], d[1]))
        for number, (_, _, label, event) in enumerate(deliveries, start=1):
            path = directory / f"{number:03d}-{label}.json"
            path.write_text(json.dumps(event, indent=2, sort_keys=True) + "\n")
        manifest["regions"][region] = {"events": len(deliveries), "duplicates": day.duplicates}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    (out / "scenario.env").write_text("".join(f"{k}={v}\n" for k, v in sorted(scenario.items())))
    for region, counts in manifest["regions"].items():
        print(f"      {region}: {counts['events']} deliveries ({counts['duplicates']} duplicates) in {out / region}")


def purge(args):
    import boto3  # installed by `make tools` (tests/requirements.txt)

    for region in args.regions:
        client = boto3.client(
            "dynamodb", region_name=region, endpoint_url=args.endpoint,
            aws_access_key_id="test", aws_secret_access_key="test",
        )
        try:
            client.describe_table(TableName=args.table)
        except client.exceptions.ResourceNotFoundException:
            continue
        keys, start = [], None
        while True:
            request = {
                "TableName": args.table,
                "IndexName": "cluster-time",
                "KeyConditionExpression": "#c = :c",
                "ExpressionAttributeNames": {"#c": "cluster"},
                "ExpressionAttributeValues": {":c": {"S": args.cluster}},
            }
            if start:
                request["ExclusiveStartKey"] = start
            page = client.query(**request)
            keys += [{"resourceArn": item["resourceArn"], "eventKey": item["eventKey"]} for item in page["Items"]]
            start = page.get("LastEvaluatedKey")
            if not start:
                break
        unique = {(k["resourceArn"]["S"], k["eventKey"]["S"]): k for k in keys}
        items = list(unique.values())
        for first in range(0, len(items), 25):
            batch = [{"DeleteRequest": {"Key": key}} for key in items[first:first + 25]]
            pending = {args.table: batch}
            while pending:
                pending = client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
        if items:
            print(f"      {region}: removed {len(items)} items of cluster {args.cluster} left by an earlier demo")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    gen = commands.add_parser("generate")
    gen.add_argument("--anchor", type=int, required=True, help="epoch seconds the day ends at")
    gen.add_argument("--out", required=True)
    gen.add_argument("--cluster", default="demo")
    gen.add_argument("regions", nargs="+")
    clean = commands.add_parser("purge")
    clean.add_argument("--endpoint", required=True)
    clean.add_argument("--table", required=True)
    clean.add_argument("--cluster", default="demo")
    clean.add_argument("regions", nargs="+")
    args = parser.parse_args()
    if args.command == "generate":
        generate(args)
    else:
        purge(args)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)
