"""Readies a running api-server for the conformance run: waits for /readyz,
signs up the USER, logs in the USER and the ADMIN, and prints their access
tokens on one line. Standard library only: a fresh machine may lack curl."""

import argparse
import json
import sys
import time
import urllib.error
import urllib.request


def call(base_url, method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base_url + path, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def wait_until_ready(base_url, seconds):
    deadline = time.monotonic() + seconds
    while True:
        try:
            status, _ = call(base_url, "GET", "/readyz")
            if status == 200:
                return
        except OSError:
            pass  # not listening yet
        if time.monotonic() > deadline:
            sys.exit(f"prepare: {base_url}/readyz did not answer 200 within {seconds} s")
        time.sleep(0.25)


def access_token(base_url, email, password):
    status, body = call(base_url, "POST", "/auth/login", {"email": email, "password": password})
    if status != 200:
        sys.exit(f"prepare: login of {email} answered {status}: {body.decode(errors='replace')}")
    return json.loads(body)["accessToken"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--admin-email", required=True)
    parser.add_argument("--admin-password", required=True)
    parser.add_argument("--user-email", default="spec-user@example.com")
    parser.add_argument("--user-password", default="spec-user-password")
    parser.add_argument("--wait-seconds", type=float, default=60)
    args = parser.parse_args()

    wait_until_ready(args.base_url, args.wait_seconds)
    signup = {"email": args.user_email, "password": args.user_password, "birthDate": "1990-01-01"}
    status, body = call(args.base_url, "POST", "/auth/signup", signup)
    if status != 201:
        sys.exit(f"prepare: signup answered {status}: {body.decode(errors='replace')}")
    user = access_token(args.base_url, args.user_email, args.user_password)
    admin = access_token(args.base_url, args.admin_email, args.admin_password)
    print(user, admin)


if __name__ == "__main__":
    main()
