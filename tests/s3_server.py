"""A real S3-compatible server on loopback for tests: moto's server mode, as a subprocess.

Authentication is on: the first requests (unauthenticated, moto's
``INITIAL_NO_AUTH_ACTION_COUNT``) make an IAM user with an access key and the bucket; after
them every request must be signed with that key, so wrong credentials fail as they do on AWS.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

MOTO = Path(sys.executable).parent / "moto_server"
SETUP_REQUESTS = 4  # create_user, put_user_policy, create_access_key, create_bucket
POLICY = (
    '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}'
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class S3Server:
    process: subprocess.Popen[bytes]
    endpoint: str
    bucket: str
    key_id: str
    secret: str

    def client(self, key_id: str | None = None, secret: str | None = None):  # noqa: ANN201
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id=key_id or self.key_id,
            aws_secret_access_key=secret or self.secret,
        )

    def env(self) -> dict[str, str]:
        """The credentials the way DVC users give them: the usual AWS variables."""
        return {
            "AWS_ACCESS_KEY_ID": self.key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret,
            "AWS_DEFAULT_REGION": "us-east-1",
        }

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def start(bucket: str = "models") -> S3Server:
    import boto3

    port = free_port()
    env = {**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": str(SETUP_REQUESTS)}
    process = subprocess.Popen(
        [str(MOTO), "-H", "127.0.0.1", "-p", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise RuntimeError("moto_server did not start") from None
            time.sleep(0.1)
    anyone = {"aws_access_key_id": "setup", "aws_secret_access_key": "setup"}
    iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1", **anyone)
    iam.create_user(UserName="ci")
    iam.put_user_policy(UserName="ci", PolicyName="all", PolicyDocument=POLICY)
    key = iam.create_access_key(UserName="ci")["AccessKey"]
    server = S3Server(process, endpoint, bucket, key["AccessKeyId"], key["SecretAccessKey"])
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **anyone)
    s3.create_bucket(Bucket=bucket)
    return server
