"""boto3 and botocore beside cfsign-mock's S3-origin tests (tests/s3_origin.rs).

  s3_helper.py seed ENDPOINT BUCKET REGION KEY=FILE...   create the bucket in moto, upload with boto3;
      moto started with INITIAL_NO_AUTH_ACTION_COUNT=3 checks every later request's SigV4: seed
      first creates an IAM user with an access key (the 3 free actions), uses it, and prints it
      as {"access_key", "secret_key"}
  s3_helper.py resign < request.json                    recompute a SigV4 signature with botocore

`resign` reads {"method", "url", "headers": [[name, value]...], "access_key", "secret_key",
"token", "region"} — a request exactly as the edge sent it — and prints {"signature",
"canonical_request"} as botocore's S3SigV4Auth computes them over the headers the request says it
signed, at the time it says it signed.
"""

import json
import re
import sys

import boto3
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


def seed(endpoint, bucket, region, pairs):
    iam = boto3.client(
        "iam", endpoint_url=endpoint, region_name="us-east-1",
        aws_access_key_id="testing", aws_secret_access_key="testing",
    )
    iam.create_user(UserName="cloudfront")
    iam.put_user_policy(
        UserName="cloudfront",
        PolicyName="s3",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
        ),
    )
    access = iam.create_access_key(UserName="cloudfront")["AccessKey"]
    s3 = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id=access["AccessKeyId"],
        aws_secret_access_key=access["SecretAccessKey"],
    )
    if region == "us-east-1":
        s3.create_bucket(Bucket=bucket)
    else:
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
    for pair in pairs:
        key, path = pair.split("=", 1)
        s3.upload_file(path, bucket, key)
    print(json.dumps({"access_key": access["AccessKeyId"], "secret_key": access["SecretAccessKey"]}))


def resign(d):
    headers = dict(d["headers"])
    auth = next(v for k, v in d["headers"] if k.lower() == "authorization")
    signed = re.search(r"SignedHeaders=([^,]+)", auth).group(1).split(";")
    amz_date = next(v for k, v in d["headers"] if k.lower() == "x-amz-date")
    request = AWSRequest(
        method=d["method"],
        url=d["url"],
        headers={k: v for k, v in headers.items() if k.lower() in signed},
    )
    request.context["timestamp"] = amz_date
    signer = S3SigV4Auth(Credentials(d["access_key"], d["secret_key"], d.get("token")), "s3", d["region"])
    canonical = signer.canonical_request(request)
    sts = signer.string_to_sign(request, canonical)
    print(json.dumps({"signature": signer.signature(sts, request), "canonical_request": canonical}))


if sys.argv[1] == "seed":
    seed(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:])
elif sys.argv[1] == "resign":
    resign(json.load(sys.stdin))
else:
    sys.exit(f"unknown command {sys.argv[1]}")
