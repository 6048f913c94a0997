#!/usr/bin/env bash
# Reaches a private EKS API from outside the VPC (a GitHub-hosted runner, a laptop):
#   ./scripts/eks-tunnel.sh CLUSTER BASTION_INSTANCE_ID [LOCAL_PORT]
# opens an SSM port-forwarding session through the bastion to the cluster's endpoint and
# writes a kubeconfig that talks to it on 127.0.0.1 while checking the endpoint's real
# name in TLS. Needs the AWS CLI, the Session Manager plugin and credentials that may
# ssm:StartSession on the bastion (the deploy role, or the admin role).
set -euo pipefail
cluster="${1:?usage: eks-tunnel.sh CLUSTER BASTION_INSTANCE_ID [LOCAL_PORT]}"
bastion="${2:?usage: eks-tunnel.sh CLUSTER BASTION_INSTANCE_ID [LOCAL_PORT]}"
port="${3:-8443}"
region="${AWS_REGION:-ap-south-1}"

endpoint="$(aws eks describe-cluster --name "$cluster" --region "$region" --query cluster.endpoint --output text)"
host="${endpoint#https://}"
log="${RUNNER_TEMP:-/tmp}/eks-tunnel-$cluster.log"
aws ssm start-session --region "$region" --target "$bastion" \
  --document-name AWS-StartPortForwardingSessionToRemoteHost \
  --parameters "host=$host,portNumber=443,localPortNumber=$port" > "$log" 2>&1 &
echo "tunnel to $host through $bastion on 127.0.0.1:$port (pid $!, log $log)"

for _ in $(seq 60); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    aws eks update-kubeconfig --name "$cluster" --region "$region" --alias "$cluster" > /dev/null
    arn="$(aws eks describe-cluster --name "$cluster" --region "$region" --query cluster.arn --output text)"
    kubectl config set-cluster "$arn" --server "https://127.0.0.1:$port" --tls-server-name "$host" > /dev/null
    kubectl version > /dev/null
    echo "kubectl reaches $cluster"
    exit 0
  fi
  sleep 1
done
echo "the tunnel did not open within 60 s:" >&2
cat "$log" >&2
exit 1
