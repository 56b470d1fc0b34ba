"""Private, encrypted site bucket behind CloudFront with origin access control, plus config.json."""

from __future__ import annotations

import json

from .conftest import Synthesized
from .support import referenced_ids


def _denies_plain_http(synthesized: Synthesized, bucket_id: str) -> bool:
    for policy in synthesized.of_type("AWS::S3::BucketPolicy").values():
        if referenced_ids(policy["Properties"]["Bucket"]) == {bucket_id}:
            return any(
                s["Effect"] == "Deny" and s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
                for s in policy["Properties"]["PolicyDocument"]["Statement"]
            )
    return False


def test_buckets_are_private_encrypted_and_ssl_only(synthesized: Synthesized) -> None:
    buckets = synthesized.of_type("AWS::S3::Bucket")
    assert len(buckets) == 2  # site + access logs
    for logical_id, bucket in buckets.items():
        props = bucket["Properties"]
        assert props["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }
        (encryption,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert encryption["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
        assert _denies_plain_http(synthesized, logical_id), logical_id


def test_distribution_reads_the_bucket_through_origin_access_control(synthesized: Synthesized) -> None:
    web = synthesized.stack.node.find_child("Web")
    site_bucket = synthesized.logical_id(web.site_bucket)
    (oac_id, oac), *others = synthesized.of_type("AWS::CloudFront::OriginAccessControl").items()
    assert not others
    assert oac["Properties"]["OriginAccessControlConfig"]["OriginAccessControlOriginType"] == "s3"
    assert oac["Properties"]["OriginAccessControlConfig"]["SigningProtocol"] == "sigv4"

    (distribution,) = synthesized.of_type("AWS::CloudFront::Distribution").values()
    config = distribution["Properties"]["DistributionConfig"]
    (origin,) = config["Origins"]
    assert referenced_ids(origin["DomainName"]) == {site_bucket}
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": [oac_id, "Id"]}
    assert origin["S3OriginConfig"]["OriginAccessIdentity"] == ""  # no legacy OAI
    assert config["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "redirect-to-https"
    assert config["DefaultRootObject"] == "index.html"
    assert referenced_ids(config["Logging"]["Bucket"]) == {synthesized.logical_id(web.access_logs_bucket)}

    # Only CloudFront (this distribution) may read the site bucket.
    statements = [
        s
        for p in synthesized.of_type("AWS::S3::BucketPolicy").values()
        if referenced_ids(p["Properties"]["Bucket"]) == {site_bucket}
        for s in p["Properties"]["PolicyDocument"]["Statement"]
        if s["Effect"] == "Allow"
    ]
    assert [s["Principal"] for s in statements] == [{"Service": "cloudfront.amazonaws.com"}]


def test_ui_and_generated_config_are_deployed(synthesized: Synthesized) -> None:
    (deployment,) = synthesized.of_type("Custom::CDKBucketDeployment").values()
    props = deployment["Properties"]
    assert referenced_ids(props["DestinationBucketName"]) == {
        synthesized.logical_id(synthesized.stack.node.find_child("Web").site_bucket)
    }
    assert props["DistributionPaths"] == ["/*"]

    (staged,) = synthesized.outdir.glob("asset.*/config.json")
    # Deploy-time values are markers the handler replaces; each is a Fn::Join of a quoted string.
    markers = {k: v for source in props["SourceMarkers"] for k, v in source.items()}
    text = staged.read_text()
    for marker, value in markers.items():
        text = text.replace(
            marker, "".join(p if isinstance(p, str) else "TOKEN" for p in value["Fn::Join"][1])
        )
    config = json.loads(text)
    assert set(config) == {
        "apiUrl",
        "region",
        "userPoolId",
        "userPoolClientId",
        "cognitoDomain",
        "apiScope",
        "redirectUrl",
    }
    assert config["apiScope"] == "exception-playbooks/api"  # the web client's scope (ui/js/auth.js)
    assert config["apiUrl"].startswith("https://") and config["redirectUrl"].startswith("https://")
    api_url_marker = staged.read_text().split('"apiUrl":')[1].split(",")[0]
    assert synthesized.logical_id(synthesized.stack.node.find_child("Api").rest_api) in referenced_ids(
        markers[api_url_marker]
    )
