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
from aws_cdk import aws_ssm as ssm
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
# A machine asks for a new client-credentials token whenever it needs one: shorter still.
AUTOMATION_TOKEN_VALIDITY = Duration.minutes(15)
# The API's OAuth scopes: every method accepts an access token carrying one of them (Api below).
RESOURCE_SERVER_ID = "exception-playbooks"
API_SCOPE = "api"  # people, through the web client
AUTOMATION_SCOPE = "automation"  # machines, through client-credentials app clients
# The demo automation client CDK creates, and the mapping its tokens get (identity.py).
DEMO_AUTOMATION_TENANT = "demo"
DEMO_AUTOMATION_USERNAME = "demo-automation"
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
            # Everyone signs in with an authenticator app (TOTP; no SMS): a new user sets it up at
            # first sign-in. Machines use client credentials, which MFA does not concern.
            mfa=cognito.Mfa.REQUIRED,
            mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            # Plus: threat protection (compromised credentials, adaptive authentication) enforced,
            # and the V3_0 pre-token-generation event that customizes client-credentials tokens.
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

        self.api_scope = cognito.ResourceServerScope(
            scope_name=API_SCOPE, scope_description="Exception Playbooks API, as a signed-in person"
        )
        self.automation_scope = cognito.ResourceServerScope(
            scope_name=AUTOMATION_SCOPE, scope_description="Exception Playbooks API, as a tenant's machine"
        )
        self.resource_server = self.user_pool.add_resource_server(
            "ResourceServer",
            identifier=RESOURCE_SERVER_ID,
            scopes=[self.api_scope, self.automation_scope],
        )

        self.client = self.user_pool.add_client(
            "WebClient",
            generate_secret=False,  # a browser app cannot keep a secret
            auth_flows=cognito.AuthFlow(user_srp=True),
            o_auth=cognito.OAuthSettings(
                # Authorization code with PKCE only (ui/js/auth.js): no implicit grant, no token in
                # a URL; the public client's code is useless without this tab's verifier. The API
                # scope puts the access token (the UI's bearer token) past the API's authorizer.
                flows=cognito.OAuthFlows(authorization_code_grant=True),
                scopes=[
                    cognito.OAuthScope.OPENID,
                    cognito.OAuthScope.EMAIL,
                    cognito.OAuthScope.PROFILE,
                    cognito.OAuthScope.resource_server(self.resource_server, self.api_scope),
                ],
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
        # Where each automation client's mapping lives (one SSM parameter per app client id).
        self.automation_clients_path = f"/{Stack.of(self).stack_name}/automation-clients/"
        self.automation_client = self.add_automation_client(
            "AutomationClient",
            tenant_id=DEMO_AUTOMATION_TENANT,
            username=DEMO_AUTOMATION_USERNAME,
            roles=[Role.AUTOMATION],
        )
        self.domain = self.user_pool.add_domain(
            "Domain", cognito_domain=cognito.CognitoDomainOptions(domain_prefix=domain_prefix)
        )
        self.pre_token = self._pre_token_trigger(shared)

    @property
    def people_scope(self) -> str:
        """The scope the web client asks for (its access token is the UI's bearer token)."""
        return f"{RESOURCE_SERVER_ID}/{API_SCOPE}"

    @property
    def authorization_scopes(self) -> list[str]:
        """What an API method accepts: an access token with the people's or the machines' scope."""
        return [self.people_scope, f"{RESOURCE_SERVER_ID}/{AUTOMATION_SCOPE}"]

    def add_automation_client(
        self, construct_id: str, *, tenant_id: str, username: str, roles: list[Role]
    ) -> cognito.UserPoolClient:
        """A tenant's machine: client credentials (id + secret), the automation scope, nothing else.

        Its tenant, timeline actor name and roles are the mapping parameter next to it, which the
        pre-token-generation trigger adds to each of its tokens (identity.py).
        """
        client = self.user_pool.add_client(
            construct_id,
            generate_secret=True,
            o_auth=cognito.OAuthSettings(
                flows=cognito.OAuthFlows(client_credentials=True),
                scopes=[cognito.OAuthScope.resource_server(self.resource_server, self.automation_scope)],
            ),
            prevent_user_existence_errors=True,
            enable_token_revocation=True,
            access_token_validity=AUTOMATION_TOKEN_VALIDITY,
            read_attributes=cognito.ClientAttributes().with_custom_attributes(TENANT_ATTRIBUTE),
            write_attributes=cognito.ClientAttributes(),  # machine clients change nothing about users
        )
        # No user sign-in flow at all (Cognito would otherwise default to SRP and custom auth);
        # a client-credentials grant never yields a refresh token, so this flag allows nothing.
        cfn_client = client.node.default_child
        assert isinstance(cfn_client, cognito.CfnUserPoolClient)
        cfn_client.explicit_auth_flows = ["ALLOW_REFRESH_TOKEN_AUTH"]
        ssm.StringParameter(
            self,
            f"{construct_id}Mapping",
            parameter_name=f"{self.automation_clients_path}{client.user_pool_client_id}",
            simple_name=False,  # a path (it starts with "/"); the client id is known at deploy time
            description=f"Exception Playbooks automation client of tenant {tenant_id} (identity.py)",
            string_value=json.dumps(
                {"tenant_id": tenant_id, "username": username, "roles": [r.value for r in roles]}
            ),
        )
        return client

    def _pre_token_trigger(self, shared: SharedFunctionProps) -> lambda_.Function:
        function = ServiceFunction(
            self,
            "PreTokenGeneration",
            shared=shared,
            code_dir=FUNCTIONS_DIR / "pretoken",
            handler="handler.lambda_handler",
            description="Exception Playbooks Cognito pre-token generation: tenant claims in access tokens",
            access=FunctionAccess(),
            memory_size=PRE_TOKEN_MEMORY_MB,
            timeout=Duration.seconds(5),  # Cognito waits at most 5 s for a trigger
            extra_environment={"AUTOMATION_CLIENTS_PATH": self.automation_clients_path},
        )
        # A policy of its own: the function's default policy is a dependency of the function,
        # which the pool depends on (its trigger): no cycle this way. Exactly the mapping path.
        mappings_arn = Stack.of(self).format_arn(
            service="ssm", resource="parameter", resource_name=f"{self.automation_clients_path.strip('/')}/*"
        )
        mappings = iam.Policy(
            self,
            "PreTokenGenerationMappings",
            roles=[function.role],
            statements=[iam.PolicyStatement(actions=["ssm:GetParameter"], resources=[mappings_arn])],
        )
        suppress(
            mappings,
            ["AwsSolutions-IAM5"],
            "One parameter per automation app client, named by its client id, which is created after "
            "this stack (an operator onboards tenants' clients): the wildcard is only the last path "
            "segment under this stack's automation-clients path, for reading.",
            applies_to=[
                "Resource::arn:<AWS::Partition>:ssm:<AWS::Region>:<AWS::AccountId>:parameter/"
                f"{self.automation_clients_path.strip('/')}/*"
            ],
        )
        self.user_pool.add_trigger(
            cognito.UserPoolOperation.PRE_TOKEN_GENERATION_CONFIG,
            function.function,
            cognito.LambdaVersion.V3_0,
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
        authorization_scopes: list[str],
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
                # With scopes the authorizer takes only access tokens carrying one of them (the web
                # client's or an automation client's), whose tenant the trigger added.
                authorization_scopes=authorization_scopes,
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
