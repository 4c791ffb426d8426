import AviaryCore
import AviaryRuntime
import AviaryStore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOFoundationCompat

/// Function URLs: plain HTTP requests to `/url/{function}/{qualifier}/{path…}` run the function (usually
/// through an alias, so canary weights apply) with an API Gateway HTTP API (payload v2) event, and its
/// result becomes the HTTP response, with `X-Amz-Executed-Version`.
///
/// Which URLs exist: with `serve --auth`, only those with a URL configuration (`CreateFunctionUrlConfig`),
/// as in Lambda; `AWS_IAM` ones then need a SigV4 signature from one of the server's keys. Without
/// `--auth` (a server nobody else can reach unless `--insecure`), every function and alias has one.
/// A configuration's CORS rules apply either way.
struct FunctionURLs: Sendable {
    let api: LambdaAPI
    /// With `--auth`: the signature check for `AWS_IAM` URLs.
    let authentication: AuthMiddleware?

    /// Where a function's (`alias` nil: `$LATEST`) or an alias's URL is served.
    static func path(function: FunctionName, alias: AliasName?) -> String {
        "/url/\(function)/\(alias.map(\.rawValue) ?? "$LATEST")/"
    }

    func addRoutes(to router: Router<LambdaRequestContext>) {
        for method: HTTPRequest.Method in [.get, .post, .put, .patch, .delete, .head, .options] {
            router.on("url/:function/:qualifier", method: method, use: handle)
            router.on("url/:function/:qualifier/**", method: method, use: handle)
        }
    }

    @Sendable func handle(_ request: Request, context: LambdaRequestContext) async throws -> Response {
        let name = try FunctionName(validating: try context.parameters.require("function"))
        let qualifier = try Qualifier(validating: try context.parameters.require("qualifier"))
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: LambdaAPI.maxInvokePayload)
        } catch is NIOTooManyBytesError {
            return Self.plain(.contentTooLarge, "Request payload is too large")
        }
        guard let function = api.store.function(name), let resolution = try? function.resolve(qualifier, scope: api.scope)
        else { return Self.plain(.notFound, "No function URL /url/\(name)/\(qualifier)") }
        let config: FunctionURLConfig? =
            switch qualifier {
            case .alias(let alias): function.urlConfigs[alias]
            case .version(.latest): function.urlConfigs[AliasName?.none]
            case .version: nil
            }
        if let authentication {
            guard let config else { return Self.plain(.notFound, "No function URL /url/\(name)/\(qualifier)") }
            if config.authType == .awsIAM {
                do throws(AuthFailure) {
                    try authentication.checkLambdaSignature(request.head, body: body)
                } catch {
                    return error.response(for: .lambda)
                }
            }
        }
        let origin = request.headers[.origin]
        if let cors = config?.cors, let origin, request.method == .options,
            request.headers[.accessControlRequestMethod] != nil
        {
            return Self.preflight(cors, origin: origin)
        }
        var version = resolution.version
        if let alias = resolution.alias, alias.routing != nil {
            version = alias.pick(
                key: {
                    alias.sticky?.key(
                        header: { name in HTTPField.Name(name).flatMap { request.headers[$0] } }, event: { nil },
                        clientContext: { nil })
                },
                draw: FastRandom.unitInterval)
        }
        let configuration = function.configuration(of: version) ?? resolution.configuration
        let path = "/" + context.parameters.getCatchAll().joined(separator: "/")
        let event = Self.event(request, path: path, body: body, requestID: context.requestID, sourceIP: context.sourceIP, scope: api.scope)
        let invocation = Invocation(
            requestID: context.requestID, payload: ByteBuffer(bytes: event),
            invokedFunctionARN: api.scope.functionARN(name, qualifier: qualifier))
        let result: InvocationResult
        do {
            result = try await api.runtime.invoke(
                function: name, alias: resolution.alias?.name, version: version, configuration: configuration,
                reservedConcurrency: function.reservedConcurrency, invocation: invocation)
        } catch let error as LambdaError where error.code == .tooManyRequests {
            return Self.plain(.tooManyRequests, "Rate Exceeded.")
        }
        var response: Response
        switch result.outcome {
        case .success(let output): response = Self.response(from: output)
        case .functionError: response = Self.plain(.badGateway, "Internal Server Error")
        }
        response.headers[.amzExecutedVersion] = version.description
        if let cors = config?.cors, let origin { Self.addCORSHeaders(cors, origin: origin, to: &response.headers) }
        return response
    }

    /// The answer to a CORS preflight, made without invoking the function.
    static func preflight(_ cors: FunctionURLConfig.Cors, origin: String) -> Response {
        var headers = HTTPFields()
        if let allowed = cors.allowedOrigin(origin) {
            headers[.accessControlAllowOrigin] = allowed
            if let methods = cors.allowMethods, !methods.isEmpty { headers[.accessControlAllowMethods] = methods.joined(separator: ",") }
            if let names = cors.allowHeaders, !names.isEmpty { headers[.accessControlAllowHeaders] = names.joined(separator: ",") }
            if let maxAge = cors.maxAge { headers[.accessControlMaxAge] = String(maxAge) }
            if cors.allowCredentials == true { headers[.accessControlAllowCredentials] = "true" }
        }
        headers[.vary] = "Origin"
        return Response(status: .ok, headers: headers)
    }

    static func addCORSHeaders(_ cors: FunctionURLConfig.Cors, origin: String, to headers: inout HTTPFields) {
        headers[.vary] = "Origin"
        guard let allowed = cors.allowedOrigin(origin) else { return }
        headers[.accessControlAllowOrigin] = allowed
        if let names = cors.exposeHeaders, !names.isEmpty { headers[.accessControlExposeHeaders] = names.joined(separator: ",") }
        if cors.allowCredentials == true { headers[.accessControlAllowCredentials] = "true" }
    }

    /// The API Gateway HTTP API v2 event for a request.
    static func event(
        _ request: Request, path: String, body: ByteBuffer, requestID: String, sourceIP: String?, scope: AccountScope
    ) -> Data {
        var headers: [String: String] = [:]
        var cookies: [String] = []
        for field in request.headers {
            let name = field.name.canonicalName
            if name == "cookie" {
                cookies += field.value.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
                continue
            }
            headers[name] = headers[name].map { "\($0),\(field.value)" } ?? field.value
        }
        let rawQuery = request.uri.query ?? ""
        var query: [String: String] = [:]
        for (key, value) in request.uri.queryParameters {
            let key = String(key)
            query[key] = query[key].map { "\($0),\(value)" } ?? String(value)
        }
        let bytes = Data(buffer: body)
        let text = String(data: bytes, encoding: .utf8)
        let now = Date()
        let host = request.head.authority ?? "127.0.0.1"
        var event: [String: Any] = [
            "version": "2.0",
            "routeKey": "$default",
            "rawPath": path,
            "rawQueryString": rawQuery,
            "headers": headers,
            "requestContext": [
                "accountId": scope.accountID,
                "apiId": "aviary",
                "domainName": host,
                "domainPrefix": host.split(separator: ".").first.map(String.init) ?? host,
                "http": [
                    "method": request.method.rawValue, "path": path, "protocol": "HTTP/1.1",
                    "sourceIp": sourceIP ?? "127.0.0.1", "userAgent": headers["user-agent"] ?? "",
                ],
                "requestId": requestID,
                "routeKey": "$default",
                "stage": "$default",
                "time": Self.clfTime(now),
                "timeEpoch": Int64(now.timeIntervalSince1970 * 1000),
            ] as [String: Any],
            "isBase64Encoded": text == nil,
        ]
        if !cookies.isEmpty { event["cookies"] = cookies }
        if !query.isEmpty { event["queryStringParameters"] = query }
        if !bytes.isEmpty { event["body"] = text ?? bytes.base64EncodedString() }
        return (try? JSONSerialization.data(withJSONObject: event, options: [.sortedKeys])) ?? Data("{}".utf8)
    }

    /// The function's result as an HTTP response: `{statusCode, headers, body, isBase64Encoded, cookies}`,
    /// or any other JSON value as a 200 `application/json` body, as Lambda function URLs do.
    static func response(from output: ByteBuffer) -> Response {
        let data = Data(buffer: output)
        guard let object = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]),
            let shaped = object as? [String: Any], let status = shaped["statusCode"] as? Int,
            (100...599).contains(status)
        else {
            return Response(
                status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: output))
        }
        var headers = HTTPFields()
        for (name, value) in shaped["headers"] as? [String: Any] ?? [:] {
            if let field = HTTPField.Name(name) { headers[field] = "\(value)" }
        }
        for cookie in shaped["cookies"] as? [String] ?? [] {
            headers.append(HTTPField(name: .setCookie, value: cookie))
        }
        var body = Data()
        if let text = shaped["body"] as? String {
            body = (shaped["isBase64Encoded"] as? Bool == true) ? Data(base64Encoded: text) ?? Data() : Data(text.utf8)
        }
        if headers[.contentType] == nil, !body.isEmpty { headers[.contentType] = "text/plain; charset=utf-8" }
        return Response(
            status: HTTPResponse.Status(code: status), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    static func plain(_ status: HTTPResponse.Status, _ message: String) -> Response {
        let body = (try? JSONSerialization.data(withJSONObject: ["message": message])) ?? Data()
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    static func clfTime(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "dd/MMM/yyyy:HH:mm:ss Z"
        return formatter.string(from: date)
    }
}
