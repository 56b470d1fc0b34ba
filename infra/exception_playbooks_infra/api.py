"""Cognito user pool and the REST API: one Lambda per endpoint group, wired from routes.ROUTES."""

from __future__ import annotations

import json
import re

from aws_cdk import Aws, Duration, RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct
from exception_playbooks.models.enums import Role
from exception_playbooks.routes import API_FUNCTIONS, ROUTES

from .access import FunctionAccess, api_access
from .functions import ServiceFunction, SharedFunctionProps
from .nag import suppress
from .paths import FUNCTIONS_DIR
from .waf import web_acl

TENANT_ATTRIBUTE = "tenant_id"  # the token carries it as custom:tenant_id
# One group per role (the token's cognito:groups claim is read by exception_playbooks.auth).
# Lower precedence wins when a user is in several groups (the cognito:preferred_role claim).
GROUP_PRECEDENCE = {Role.ADMIN: 0, Role.OPERATOR: 10, Role.AUTOMATION: 20, Role.APPROVER: 25, Role.VIEWER: 30}

# Short-lived: a stolen token is useful for minutes; the web app signs in again after this.
TOKEN_VALIDITY = Duration.minutes(30)
PRE_TOKEN_MEMORY_MB = 512  # CPU scales with memory: Cognito gives a trigger 5 s
STAGE_NAME = "prod"
API_PREFIX = "/api"
API_MEMORY_MB = 1024  # CPU scales with memory: shorter cold starts for the pydantic/Powertools imports
API_TIMEOUT = Duration.seconds(10)  # API Gateway gives up at 29 s; a stuck request should fail fast
THROTTLING_RATE_LIMIT = 100
THROTTLING_BURST_LIMIT = 200
CORS_ALLOW_HEADERS = [
    "Authorization",
    "Content-Type",
    "Idempotency-Key",
    "X-Amz-Date",
    "X-Amz-Security-Token",
]
_PATH_PARAMETER = re.compile(r"\{([A-Za-z0-9_]+)\}")


class Auth(Construct):
    """User pool (admin-created users only), groups, the web app client and its hosted domain."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        ui_origin: str,
        domain_prefix: str,
        shared: SharedFunctionProps,
    ) -> None:
        super().__init__(scope, construct_id)
        self.user_pool = cognito.UserPool(
            self,
            "UserPool",
            self_sign_up_enabled=False,  # users belong to a tenant; an admin creates them
            sign_in_aliases=cognito.SignInAliases(email=True),
            sign_in_case_sensitive=False,
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            standard_attributes=cognito.StandardAttributes(
                email=cognito.StandardAttribute(required=True, mutable=True)
            ),
            # Immutable: set once by admin-create-user, never changed by anyone afterwards.
            custom_attributes={
                TENANT_ATTRIBUTE: cognito.StringAttribute(min_len=1, max_len=128, mutable=False)
            },
            password_policy=cognito.PasswordPolicy(
                min_length=12,
                require_lowercase=True,
                require_uppercase=True,
                require_digits=True,
                require_symbols=True,
                temp_password_validity=Duration.days(3),
            ),
            mfa=cognito.Mfa.OPTIONAL,
            mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            # Plus: threat protection (compromised credentials, adaptive authentication) enforced.
            feature_plan=cognito.FeaturePlan.PLUS,
            standard_threat_protection_mode=cognito.StandardThreatProtectionMode.FULL_FUNCTION,
            deletion_protection=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
        if set(GROUP_PRECEDENCE) != set(Role):
            raise ValueError(f"GROUP_PRECEDENCE must name every role: {sorted(Role)}")
        for role, precedence in GROUP_PRECEDENCE.items():
            self.user_pool.add_group(
                f"{role.value.capitalize()}Group",
                group_name=role.value,
                precedence=precedence,
                description=f"Exception Playbooks {role.value} role",
            )

        self.client = self.user_pool.add_client(
            "WebClient",
            generate_secret=False,  # a browser app cannot keep a secret
            auth_flows=cognito.AuthFlow(user_srp=True),
            o_auth=cognito.OAuthSettings(
                # Authorization code with PKCE only (ui/js/auth.js): no implicit grant, no token in
                # a URL; the public client's code is useless without this tab's verifier.
                flows=cognito.OAuthFlows(authorization_code_grant=True),
                scopes=[cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL, cognito.OAuthScope.PROFILE],
                callback_urls=[f"{ui_origin}/"],
                logout_urls=[f"{ui_origin}/"],
            ),
            supported_identity_providers=[cognito.UserPoolClientIdentityProvider.COGNITO],
            prevent_user_existence_errors=True,
            enable_token_revocation=True,
            id_token_validity=TOKEN_VALIDITY,
            access_token_validity=TOKEN_VALIDITY,
            refresh_token_validity=Duration.hours(12),
            read_attributes=cognito.ClientAttributes()
            .with_standard_attributes(email=True, email_verified=True, fullname=True)
            .with_custom_attributes(TENANT_ATTRIBUTE),
            # custom:tenant_id is deliberately absent: no app client may write it.
            write_attributes=cognito.ClientAttributes().with_standard_attributes(email=True, fullname=True),
        )
        # Machine clients (the automation role) sign in from scripts: username + password over TLS
        # (USER_PASSWORD_AUTH, e.g. `aws cognito-idp initiate-auth`), no hosted UI, no OAuth.
        self.automation_client = self.user_pool.add_client(
            "AutomationClient",
            generate_secret=False,
            auth_flows=cognito.AuthFlow(user_password=True),
            disable_o_auth=True,
            prevent_user_existence_errors=True,
            enable_token_revocation=True,
            id_token_validity=TOKEN_VALIDITY,
            access_token_validity=TOKEN_VALIDITY,
            refresh_token_validity=Duration.hours(12),
            read_attributes=cognito.ClientAttributes().with_custom_attributes(TENANT_ATTRIBUTE),
            write_attributes=cognito.ClientAttributes(),  # machine clients change nothing about users
        )
        self.domain = self.user_pool.add_domain(
            "Domain", cognito_domain=cognito.CognitoDomainOptions(domain_prefix=domain_prefix)
        )
        self.pre_token = self._admin_mfa_trigger(shared)
        suppress(
            self.user_pool,
            ["AwsSolutions-COG2"],
            "MFA is required for admins, not by the pool: the pre-token-generation trigger "
            "(identity.py) issues no token to an admin without TOTP, and Cognito challenges every "
            "TOTP user on every sign-in. Pool-wide REQUIRED would lock out the automation group's "
            "script users, which sign in with a password (USER_PASSWORD_AUTH).",
        )

    def _admin_mfa_trigger(self, shared: SharedFunctionProps) -> lambda_.Function:
        function = ServiceFunction(
            self,
            "PreTokenGeneration",
            shared=shared,
            code_dir=FUNCTIONS_DIR / "pretoken",
            handler="handler.lambda_handler",
            description="Exception Playbooks Cognito pre-token generation: admins only with MFA",
            access=FunctionAccess(),
            memory_size=PRE_TOKEN_MEMORY_MB,
            timeout=Duration.seconds(5),  # Cognito waits at most 5 s for a trigger
        )
        # A policy of its own: the function's default policy is a dependency of the function,
        # which the pool depends on (its trigger), which this policy names: no cycle this way.
        iam.Policy(
            self,
            "PreTokenGenerationLookup",
            roles=[function.role],
            statements=[
                iam.PolicyStatement(
                    actions=["cognito-idp:AdminGetUser"], resources=[self.user_pool.user_pool_arn]
                )
            ],
        )
        self.user_pool.add_trigger(
            cognito.UserPoolOperation.PRE_TOKEN_GENERATION_CONFIG,
            function.function,
            cognito.LambdaVersion.V2_0,
        )
        return function.function

    @property
    def domain_url(self) -> str:
        return self.domain.base_url()


def _access_log_format() -> apigw.AccessLogFormat:
    """One JSON object per request, with the fields needed to trace a failure to a caller."""
    fields = {
        "requestId": apigw.AccessLogField.context_request_id(),
        "requestTime": apigw.AccessLogField.context_request_time(),
        "ip": apigw.AccessLogField.context_identity_source_ip(),
        "userSub": apigw.AccessLogField.context_authorizer_claims("sub"),
        "httpMethod": apigw.AccessLogField.context_http_method(),
        "resourcePath": apigw.AccessLogField.context_resource_path(),
        "status": apigw.AccessLogField.context_status(),
        "protocol": apigw.AccessLogField.context_protocol(),
        "responseLength": apigw.AccessLogField.context_response_length(),
        "responseLatency": apigw.AccessLogField.context_response_latency(),
        "integrationLatency": apigw.AccessLogField.context_integration_latency(),
        "integrationError": apigw.AccessLogField.context_integration_error_message(),
        "authorizerError": apigw.AccessLogField.context_authorizer_error(),
        "xrayTraceId": apigw.AccessLogField.context_xray_trace_id(),
    }
    return apigw.AccessLogFormat.custom(json.dumps(fields))


class Api(Construct):
    """REST API with a Cognito authorizer on every /api method and one function per endpoint group."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        shared: SharedFunctionProps,
        user_pool: cognito.IUserPool,
        ui_origin: str,
    ) -> None:
        super().__init__(scope, construct_id)
        self.functions: dict[str, lambda_.Function] = {
            group: ServiceFunction(
                self,
                f"{group.capitalize()}Function",
                shared=shared,
                code_dir=FUNCTIONS_DIR / group,
                handler="handler.lambda_handler",
                description=f"Exception Playbooks API: {group}",
                access=api_access(group),
                memory_size=API_MEMORY_MB,
                timeout=API_TIMEOUT,
                # Proxy integrations answer CORS themselves (Powertools CORSConfig(allow_origin=...)).
                extra_environment={"CORS_ALLOW_ORIGIN": ui_origin},
            ).function
            for group in API_FUNCTIONS
        }

        self.access_log_group = logs.LogGroup(
            self, "AccessLogs", retention=logs.RetentionDays.ONE_YEAR, removal_policy=RemovalPolicy.RETAIN
        )
        self.rest_api = apigw.RestApi(
            self,
            "RestApi",
            rest_api_name=f"{Stack.of(self).stack_name}-api",  # also the ApiName of its metrics
            description="Exception Playbooks API",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            # Execution logging needs the account-level API Gateway role; kept if the stack goes,
            # because it is shared by every API in the account and region.
            cloud_watch_role=True,
            cloud_watch_role_removal_policy=RemovalPolicy.RETAIN,
            deploy_options=apigw.StageOptions(
                stage_name=STAGE_NAME,
                throttling_rate_limit=THROTTLING_RATE_LIMIT,
                throttling_burst_limit=THROTTLING_BURST_LIMIT,
                access_log_destination=apigw.LogGroupLogDestination(self.access_log_group),
                access_log_format=_access_log_format(),
                logging_level=apigw.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,  # would log request bodies: tenant data
                metrics_enabled=True,
                tracing_enabled=True,
            ),
        )
        self.authorizer = apigw.CognitoUserPoolsAuthorizer(
            self,
            "Authorizer",
            cognito_user_pools=[user_pool],
            results_cache_ttl=Duration.minutes(5),
        )
        validator = self.rest_api.add_request_validator("PathParameters", validate_request_parameters=True)

        allowed_methods = sorted({route.method for route in ROUTES} | {"OPTIONS"})
        # Every resource under /api inherits the preflight (OPTIONS) method from here.
        self.rest_api.root.add_resource(
            API_PREFIX.strip("/"),
            default_cors_preflight_options=apigw.CorsOptions(
                allow_origins=[ui_origin],
                allow_methods=allowed_methods,
                allow_headers=CORS_ALLOW_HEADERS,
                max_age=Duration.hours(1),
            ),
        )
        for route in ROUTES:
            if not route.path.startswith(API_PREFIX + "/"):
                raise ValueError(f"route {route.method} {route.path} is outside {API_PREFIX}")
            resource = self.rest_api.root.resource_for_path(route.path)
            resource.add_method(
                route.method,
                apigw.LambdaIntegration(self.functions[route.function], allow_test_invoke=False),
                authorizer=self.authorizer,
                authorization_type=apigw.AuthorizationType.COGNITO,
                request_validator=validator,
                request_parameters={
                    f"method.request.path.{name}": True for name in _PATH_PARAMETER.findall(route.path)
                },
            )

        # Errors produced by API Gateway itself (401 from the authorizer, 429 throttling, 5xx)
        # never reach a function, so they need the CORS header here or the browser hides them.
        for response_type in (apigw.ResponseType.DEFAULT_4_XX, apigw.ResponseType.DEFAULT_5_XX):
            self.rest_api.add_gateway_response(
                f"Cors{response_type.response_type}",
                type=response_type,
                response_headers={"Access-Control-Allow-Origin": f"'{ui_origin}'"},
                # The API's one error shape, also for answers the gateway gives itself
                # (401 from the authorizer, 429 throttled): code is e.g. UNAUTHORIZED, THROTTLED.
                templates={
                    "application/json": '{"code":"$context.error.responseType",'
                    '"message":$context.error.messageString}'
                },
            )

        for method in self.rest_api.methods:
            if method.http_method == "OPTIONS":
                suppress(
                    method,
                    ["AwsSolutions-APIG4", "AwsSolutions-COG4"],
                    "CORS preflight: browsers send OPTIONS without credentials by specification; it is a "
                    "mock integration returning only the CORS headers.",
                )
        suppress(
            self.rest_api,
            ["AwsSolutions-APIG2"],
            "Path parameters are validated by API Gateway (request validator); bodies are validated by "
            "each handler's pydantic models, the one schema shared with the local stack and OpenAPI.",
        )
        suppress(
            self.rest_api,
            ["AwsSolutions-IAM4"],
            "The account-level API Gateway logging role uses AmazonAPIGatewayPushToCloudWatchLogs, the "
            "documented policy for it; it holds no data permissions.",
            applies_to=[
                "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"
            ],
            apply_to_children=True,
        )
        # WAF in front of the stage: managed common rules + a per-IP rate rule (waf.py).
        self.web_acl = web_acl(self, "WebAcl", acl_scope="REGIONAL", metric_prefix="ExceptionPlaybooksApi")
        wafv2.CfnWebACLAssociation(
            self,
            "WebAclAssociation",
            resource_arn=self.rest_api.deployment_stage.stage_arn,
            web_acl_arn=self.web_acl.attr_arn,
        )

    @property
    def base_url(self) -> str:
        """The stage URL without a trailing slash; routes are appended as-is (``{base_url}/api/...``)."""
        return (
            f"https://{self.rest_api.rest_api_id}.execute-api.{Aws.REGION}.{Aws.URL_SUFFIX}/"
            f"{self.rest_api.deployment_stage.stage_name}"
        )
