"""Creates, on a moto server that enforces IAM, one user per function of template.yaml whose only
permissions are that function's policy statements, resolved for this test's table and topic.

Usage: function_credentials.py TEMPLATE ENDPOINT TABLE_NAME TOPIC_ARN [PARAMETER=VALUE ...]
Prints {"<LogicalId>": {"access_key_id": ..., "secret_access_key": ...}, ...} as JSON.

Each function costs three IAM calls (CreateUser, PutUserPolicy, CreateAccessKey); the caller
starts moto with INITIAL_NO_AUTH_ACTION_COUNT covering exactly its own set-up plus these.
Parameters take their template defaults unless given as PARAMETER=VALUE, and conditions
evaluate from them as in a deployment.
moto checks the actions of a policy but matches every request against the resource `*`, so each
statement's resources are widened to `*` here: the test proves the actions suffice; the resources
(the table, its index, the topic, the key, `session/*`) are resolved only to be sure they resolve.
"""

import json
import re
import sys

import boto3
from cfnlint.decode import cfn_yaml

ACCOUNT = "123456789012"
REGION = "eu-west-1"
PARTITION = "aws"


def main():
    template_path, endpoint, table_name, topic_arn = sys.argv[1:5]
    template = cfn_yaml.load(template_path)
    parameters = {
        name: str(spec.get("Default", ""))
        for name, spec in template.get("Parameters", {}).items()
    }
    for override in sys.argv[5:]:
        name, value = override.split("=", 1)
        if name not in parameters:
            raise SystemExit(f"template.yaml has no parameter {name}")
        parameters[name] = value
    conditions = template.get("Conditions", {})
    table_arn = f"arn:{PARTITION}:dynamodb:{REGION}:{ACCOUNT}:table/{table_name}"
    key_arn = f"arn:{PARTITION}:kms:{REGION}:{ACCOUNT}:key/00000000-0000-0000-0000-000000000000"
    resources = {
        "SessionsTable": {"Ref": table_name, "Arn": table_arn},
        "AlertTopic": {"Ref": topic_arn, "Arn": topic_arn},
        "WardenKey": {"Ref": key_arn.rsplit("/", 1)[1], "Arn": key_arn},
    }
    pseudo = {
        "AWS::Partition": PARTITION,
        "AWS::Region": REGION,
        "AWS::AccountId": ACCOUNT,
        "AWS::StackName": "session-warden",
        "AWS::URLSuffix": "amazonaws.com",
    }

    def ref(name):
        if name in pseudo:
            return pseudo[name]
        if name in parameters:
            return parameters[name]
        if name in resources:
            return resources[name]["Ref"]
        raise SystemExit(f"cannot resolve Ref {name}: add it to function_credentials.py")

    def get_att(logical_id, attribute):
        try:
            return resources[logical_id][attribute]
        except KeyError:
            raise SystemExit(f"cannot resolve GetAtt {logical_id}.{attribute}")

    def condition(name):
        return evaluate(conditions[name])

    def evaluate(node):
        if isinstance(node, dict) and len(node) == 1:
            (key, value), = node.items()
            if key == "Fn::Equals":
                left, right = (resolve(v) for v in value)
                return str(left) == str(right)
            if key == "Fn::Not":
                return not evaluate(value[0])
            if key == "Fn::And":
                return all(evaluate(v) for v in value)
            if key == "Fn::Or":
                return any(evaluate(v) for v in value)
            if key == "Condition":
                return condition(value)
        raise SystemExit(f"cannot evaluate condition {node!r}")

    no_value = object()

    def resolve(node):
        if isinstance(node, list):
            items = [resolve(v) for v in node]
            return [v for v in items if v is not no_value]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            (key, value), = node.items()
            if key == "Ref":
                return no_value if value == "AWS::NoValue" else ref(value)
            if key == "Fn::GetAtt":
                logical_id, attribute = value.split(".", 1) if isinstance(value, str) else value
                return get_att(logical_id, attribute)
            if key == "Fn::Sub":
                text = value if isinstance(value, str) else value[0]

                def substitute(match):
                    name = match.group(1)
                    if "." in name:
                        return get_att(*name.split(".", 1))
                    return ref(name)

                return re.sub(r"\$\{([^}!]+)\}", substitute, text)
            if key == "Fn::If":
                name, when_true, when_false = value
                return resolve(when_true if condition(name) else when_false)
            if key.startswith("Fn::"):
                raise SystemExit(f"cannot resolve {key}: add it to function_credentials.py")
        resolved = {k: resolve(v) for k, v in node.items()}
        return {k: v for k, v in resolved.items() if v is not no_value}

    iam = boto3.client(
        "iam",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    credentials = {}
    for logical_id, resource in template["Resources"].items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        statements = []
        for policy in resource.get("Properties", {}).get("Policies", []):
            if not isinstance(policy, dict) or "Statement" not in policy:
                raise SystemExit(
                    f"{logical_id}: only inline Statement policies are understood, not {policy!r}"
                )
            statements.extend(resolve(policy["Statement"]))
        widened = [dict(statement, Resource="*") for statement in statements]
        document = {"Version": "2012-10-17", "Statement": widened}
        iam.create_user(UserName=logical_id)
        iam.put_user_policy(
            UserName=logical_id, PolicyName="template", PolicyDocument=json.dumps(document)
        )
        key = iam.create_access_key(UserName=logical_id)["AccessKey"]
        credentials[logical_id] = {
            "access_key_id": key["AccessKeyId"],
            "secret_access_key": key["SecretAccessKey"],
        }
    json.dump(credentials, sys.stdout)


if __name__ == "__main__":
    main()
