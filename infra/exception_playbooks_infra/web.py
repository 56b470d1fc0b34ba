"""The static web UI: private S3 bucket behind CloudFront (origin access control) plus its config.json."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Annotations, DefaultStackSynthesizer, Duration, Fn, RemovalPolicy, Stack
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3_deployment
from cdk_nag import RegexAppliesTo
from constructs import Construct

from .nag import suppress
from .paths import UI_DIR
from .policies import role_policy

UI_CONFIG_OBJECT = "config.json"
ACCESS_LOG_RETENTION = Duration.days(90)


def _asset_bucket_objects_arn(scope: Construct) -> str:
    """ARN pattern of the bootstrap asset bucket's objects, where every deployment source is staged."""
    synthesizer = Stack.of(scope).synthesizer
    if not isinstance(synthesizer, DefaultStackSynthesizer):
        raise TypeError("the web deployment role assumes the DefaultStackSynthesizer's asset bucket")
    qualifier = synthesizer.bootstrap_qualifier or DefaultStackSynthesizer.DEFAULT_QUALIFIER
    bucket_name = DefaultStackSynthesizer.DEFAULT_FILE_ASSETS_BUCKET_NAME.replace("${Qualifier}", qualifier)
    return Fn.sub(f"arn:${{AWS::Partition}}:s3:::{bucket_name}/*")


def content_security_policy(api_origin: str, cognito_origin: str) -> str:
    """Scripts, styles and images from the UI's own origin; XHR to the API and Cognito only."""
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "font-src 'self'",
            f"connect-src 'self' {api_origin} {cognito_origin}",
            f"form-action 'self' {cognito_origin}",
            "frame-ancestors 'none'",
            "base-uri 'none'",
            "object-src 'none'",
        ]
    )


def ui_has_files() -> bool:
    return UI_DIR.is_dir() and any(path.is_file() for path in UI_DIR.rglob("*"))


class WebHosting(Construct):
    """Bucket, access-log bucket and distribution; ``deploy_site`` uploads ui/ and config.json."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        # CloudFront standard logs are delivered with an ACL grant, so this bucket keeps ACLs on.
        self.access_logs_bucket = s3.Bucket(
            self,
            "AccessLogsBucket",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            removal_policy=RemovalPolicy.RETAIN,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
            lifecycle_rules=[s3.LifecycleRule(expiration=ACCESS_LOG_RETENTION)],
        )
        self.site_bucket = s3.Bucket(
            self,
            "SiteBucket",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            removal_policy=RemovalPolicy.RETAIN,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            versioned=True,  # a bad UI deploy can be rolled back object by object
            lifecycle_rules=[s3.LifecycleRule(noncurrent_version_expiration=Duration.days(30))],
            server_access_logs_bucket=self.access_logs_bucket,
            server_access_logs_prefix="site-bucket/",
        )
        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment="Exception Playbooks web UI",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(self.site_bucket),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                response_headers_policy=cloudfront.ResponseHeadersPolicy.SECURITY_HEADERS,
            ),
            default_root_object="index.html",
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            price_class=cloudfront.PriceClass.PRICE_CLASS_100,
            enable_logging=True,
            log_bucket=self.access_logs_bucket,
            log_file_prefix="cloudfront/",
        )
        suppress(
            self.distribution,
            ["AwsSolutions-CFR4"],
            "Served on the default *.cloudfront.net certificate, for which CloudFront does not let the "
            "minimum viewer TLS version be chosen; give it a custom domain with an ACM certificate "
            "(TLSv1.2_2021 is then the default) when one is assigned.",
        )
        suppress(
            self.distribution,
            ["AwsSolutions-CFR1"],
            "Serves only the static UI bundle (no data, no secrets); tenants work from many countries, and "
            "the data path (the API) is authenticated and throttled.",
        )

    @property
    def origin(self) -> str:
        """The UI's origin, for CORS and OAuth callback URLs."""
        return f"https://{self.distribution.distribution_domain_name}"

    def protect(self, *, api_origin: str, cognito_origin: str, web_acl_arn: str | None) -> None:
        """A strict CSP naming exactly the API and Cognito origins, and the CloudFront WAF ACL.

        Called once the API and the user pool domain exist (both are referenced, never the other
        way round, so there is no cycle). ``web_acl_arn``: a CLOUDFRONT-scope ACL from us-east-1.
        """
        policy = cloudfront.ResponseHeadersPolicy(
            self,
            "SecurityHeaders",
            comment="Exception Playbooks UI: strict CSP, no framing",
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
                    content_security_policy=content_security_policy(api_origin, cognito_origin),
                    override=True,
                ),
                frame_options=cloudfront.ResponseHeadersFrameOptions(
                    frame_option=cloudfront.HeadersFrameOption.DENY, override=True
                ),
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
                referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                    referrer_policy=cloudfront.HeadersReferrerPolicy.NO_REFERRER, override=True
                ),
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=Duration.days(365),
                    include_subdomains=True,
                    override=True,
                ),
            ),
        )
        distribution = self.distribution.node.default_child
        assert isinstance(distribution, cloudfront.CfnDistribution)
        distribution.add_property_override(
            "DistributionConfig.DefaultCacheBehavior.ResponseHeadersPolicyId",
            policy.response_headers_policy_id,
        )
        if web_acl_arn:
            distribution.add_property_override("DistributionConfig.WebACLId", web_acl_arn)
        else:
            suppress(
                self.distribution,
                ["AwsSolutions-CFR2"],
                "CloudFront WAF ACLs must live in us-east-1; none was given (cloudfrontWebAclArn). The "
                "distribution serves only the static UI bundle; the API has its own regional WAF ACL.",
            )

    def deploy_site(self, ui_config: Mapping[str, str]) -> s3_deployment.BucketDeployment:
        """Upload ui/ plus a generated config.json, then invalidate the distribution."""
        sources = [s3_deployment.Source.json_data(UI_CONFIG_OBJECT, dict(ui_config))]
        if ui_has_files():
            sources.insert(0, s3_deployment.Source.asset(str(UI_DIR)))
        else:
            Annotations.of(self).add_warning_v2(
                "exception-playbooks:empty-ui", "ui/ has no files: only config.json is deployed"
            )

        log_group = logs.LogGroup(
            self,
            "DeploymentLogs",
            retention=logs.RetentionDays.ONE_MONTH,
            removal_policy=RemovalPolicy.DESTROY,
        )
        # BucketDeployment would grant its handler s3:GetObject*/s3:List*/s3:DeleteObject* style
        # wildcards; this role lists the exact actions `aws s3 cp`, `aws s3 sync --delete` and the
        # invalidation need, and is handed over immutable so those wildcard grants are dropped.
        role = iam.Role(
            self,
            "DeploymentRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Exception Playbooks UI deployment: copy staged assets into the site bucket",
        )
        for statement in (
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"], resources=[log_group.log_group_arn]
            ),
            iam.PolicyStatement(actions=["s3:GetObject"], resources=[_asset_bucket_objects_arn(self)]),
            iam.PolicyStatement(actions=["s3:ListBucket"], resources=[self.site_bucket.bucket_arn]),
            iam.PolicyStatement(
                actions=["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
                resources=[self.site_bucket.arn_for_objects("*")],
            ),
            iam.PolicyStatement(
                actions=["cloudfront:CreateInvalidation", "cloudfront:GetInvalidation"],
                resources=[self.distribution.distribution_arn],
            ),
        ):
            role.add_to_principal_policy(statement)

        deployment = s3_deployment.BucketDeployment(
            self,
            "SiteDeployment",
            sources=sources,
            destination_bucket=self.site_bucket,
            distribution=self.distribution,
            distribution_paths=["/*"],
            role=role.without_policy_updates(),
            log_group=log_group,
            memory_limit=256,
            prune=True,
        )
        # The copy runs at deploy time with this role: its policy must exist first.
        deployment.node.add_dependency(role_policy(role))
        suppress(
            role,
            ["AwsSolutions-IAM5"],
            "The UI's object keys are not known in advance: object-level access is confined to the site "
            "bucket and the CDK bootstrap asset bucket, with exact actions.",
            applies_to=[
                RegexAppliesTo(regex=r"/^Resource::<WebSiteBucket[A-Za-z0-9]+\.Arn>\/\*$/"),
                RegexAppliesTo(regex=r"/^Resource::arn:<AWS::Partition>:s3:::cdk-[a-z0-9]+-assets-.*\/\*$/"),
            ],
            apply_to_children=True,
        )
        return deployment
