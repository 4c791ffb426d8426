import AviaryCore
public import AviaryEngine
import Foundation
import HTTPTypes
public import Hummingbird
import NIOCore

/// The pages behind approval links: `GET /approvals/{token}` shows what the link would do, with the
/// canary's health and a confirm button; only `POST` acts (chat apps open links to preview them, and a
/// preview must never approve anything). They need no credentials: the signed token is the permission.
public struct ApprovalPages: Sendable {
    let engine: DeploymentEngine
    /// Client networks allowed to use links; empty: any.
    let allowedNetworks: [IPNetwork]

    public init(engine: DeploymentEngine, allowedNetworks: [IPNetwork] = []) {
        self.engine = engine
        self.allowedNetworks = allowedNetworks
    }

    public func addRoutes(to router: Router<LambdaRequestContext>) {
        router.get("approvals/:token") { request, context in await self.show(request, context) }
        router.post("approvals/:token") { request, context in await self.confirm(request, context) }
    }

    /// A link checked up to the point of acting: the token, its deployment, and the deployment's health.
    struct Checked {
        let token: LinkToken
        let deployment: Deployment
        let live: HealthReport?
    }

    func show(_ request: Request, _ context: LambdaRequestContext) async -> Response {
        switch await check(context) {
        case .failure(let refusal): return refusal.page
        case .success(let checked): return LinkPage.confirm(checked, action: path(request)).response(.ok)
        }
    }

    func confirm(_ request: Request, _ context: LambdaRequestContext) async -> Response {
        guard let form = try? await request.body.collect(upTo: 16 * 1024) else {
            return LinkPage.refusal("Too much", "The form is larger than 16 KB.").response(.contentTooLarge)
        }
        let fields = Self.formFields(String(buffer: form))
        let name = fields["name"]?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        let checked: Checked
        switch await check(context) {
        case .failure(let refusal):
            // A genuine link that came too late (used, decided, finished) is a decision refused: recorded.
            if let late = refusal.late {
                let approver = Approver(name: name.isEmpty ? nil : name, via: "link", tokenID: late.token.id, source: context.sourceIP)
                let event: DeploymentEvent = late.token.action == .approve ? .approve(approver, reason: nil) : .reject(approver, reason: nil)
                await engine.recordRefusal(of: event, to: late.token.deployment, late.error)
            }
            return refusal.page
        case .success(let found): checked = found
        }
        guard (1...128).contains(name.count) else {
            return LinkPage.confirm(checked, action: path(request), problem: "Please enter your name: it is recorded with your decision.")
                .response(.badRequest)
        }
        let reason = fields["reason"].flatMap { $0.isEmpty ? nil : String($0.prefix(1024)) }
        let approver = Approver(name: name, via: "link", tokenID: checked.token.id, source: context.sourceIP)
        do {
            let event: DeploymentEvent =
                checked.token.action == .approve ? .approve(approver, reason: reason) : .reject(approver, reason: reason)
            let deployment = try await engine.act(checked.deployment.id, event)
            return LinkPage.done(deployment, action: checked.token.action, by: name).response(.ok)
        } catch let error as DeploymentError {
            let status: HTTPResponse.Status = error.kind == .forbidden ? .forbidden : .conflict
            return LinkPage.refusal("Nothing was changed", error.message).response(status)
        } catch {
            return LinkPage.refusal("Nothing was changed", "Aviary could not record the decision: \(error)").response(.internalServerError)
        }
    }

    struct Refusal: Error {
        let page: Response
        /// Set when the link is genuine but the deployment no longer waits for what it does.
        var late: (token: LinkToken, error: DeploymentError)?
    }

    /// Everything short of acting: the client's network, the signature, the expiry, and whether the
    /// deployment still waits for what the link does.
    func check(_ context: LambdaRequestContext) async -> Result<Checked, Refusal> {
        func refuse(_ status: HTTPResponse.Status, _ title: String, _ text: String, late token: LinkToken? = nil) -> Result<Checked, Refusal> {
            .failure(Refusal(
                page: LinkPage.refusal(title, text).response(status),
                late: token.map { ($0, DeploymentError.notAllowed("\(title): \(text)")) }))
        }
        if !allowedNetworks.isEmpty {
            guard let source = context.sourceIP, allowedNetworks.contains(where: { $0.contains(source) }) else {
                return refuse(.forbidden, "Not from this network", "Approval links cannot be used from \(context.sourceIP ?? "an unknown address").")
            }
        }
        let text = context.parameters.get("token") ?? ""
        let token: LinkToken
        switch engine.signer.verify(text, now: engine.now()) {
        case .failure(.forged):
            return refuse(.forbidden, "Invalid link", "This link was not issued by this Aviary server, or it was changed. Nothing was done.")
        case .failure(.expired(let expired)):
            return refuse(.gone, "Link expired", "This link expired at \(expired.expiresAt). Nothing was done.")
        case .success(let valid):
            token = valid
        }
        guard let (deployment, live) = try? await engine.deployment(token.deployment) else {
            return refuse(.notFound, "Unknown deployment", "Deployment \(token.deployment) does not exist on this server.")
        }
        guard let approval = deployment.approval,
            token.id == (token.action == .approve ? approval.approveTokenID : approval.rollbackTokenID)
        else {
            return refuse(.forbidden, "Invalid link", "This link does not belong to deployment \(deployment.id). Nothing was done.")
        }
        if let used = approval.used(token.id) {
            return refuse(
                .conflict, "Link already used",
                "This link was used by \(used.by ?? "someone") at \(used.at) (\(used.kind.rawValue)). A link works once.", late: token)
        }
        if let decision = approval.decision {
            return refuse(
                .conflict, "Already decided",
                "Deployment \(deployment.id) was already \(decision.kind == .approved ? "approved" : "rolled back") by \(decision.by ?? decision.via) at \(decision.at)."
                    + (deployment.isActive ? " Nothing was changed." : ""), late: token)
        }
        guard deployment.isActive else {
            let why = deployment.outcome.map { ": \($0.message)" } ?? ""
            return refuse(
                .conflict, "Deployment finished", "Deployment \(deployment.id) has already finished (\(deployment.status.rawValue))\(why).",
                late: token)
        }
        return .success(Checked(token: token, deployment: deployment, live: live))
    }

    func path(_ request: Request) -> String { request.uri.path }

    /// `application/x-www-form-urlencoded` fields.
    static func formFields(_ body: String) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in body.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map {
                String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? ""
            }
            if let key = parts.first, fields[key] == nil { fields[key] = parts.count > 1 ? parts[1] : "" }
        }
        return fields
    }
}

/// The HTML of the link pages: small, self-contained, every value escaped.
enum LinkPage {
    struct HTML {
        let title: String
        let body: String

        func response(_ status: HTTPResponse.Status) -> Response {
            let document = """
                <!doctype html>
                <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
                <meta name="robots" content="noindex"><title>\(escape(title)) · Aviary</title>
                <style>
                body{font:16px/1.5 system-ui,sans-serif;max-width:42rem;margin:2rem auto;padding:0 1rem;color:#1d2330}
                h1{font-size:1.4rem} table{border-collapse:collapse;margin:1rem 0} td,th{padding:.25rem .75rem;border-bottom:1px solid #dde;text-align:left}
                .approve{background:#1a7f37;color:#fff} .rollback{background:#c62828;color:#fff}
                button{font-size:1rem;padding:.6rem 1.2rem;border:0;border-radius:6px;cursor:pointer}
                input{font-size:1rem;padding:.4rem;width:100%;box-sizing:border-box;margin:.25rem 0 .75rem}
                .problem{color:#c62828} .muted{color:#667}
                </style></head><body><h1>\(escape(title))</h1>
                \(body)
                </body></html>
                """
            return Response(
                status: status,
                headers: [
                    .contentType: "text/html; charset=utf-8", .cacheControl: "no-store",
                    // The token is in the URL: keep it out of referrers and other sites' frames.
                    HTTPField.Name("Referrer-Policy")!: "no-referrer", HTTPField.Name("X-Frame-Options")!: "DENY",
                    HTTPField.Name("Content-Security-Policy")!: "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
                ],
                body: .init(byteBuffer: ByteBuffer(string: document)))
        }
    }

    static func confirm(_ checked: ApprovalPages.Checked, action: String, problem: String? = nil) -> HTML {
        let deployment = checked.deployment
        let approving = checked.token.action == .approve
        let verb = approving ? "Approve" : "Roll back"
        let what =
            approving
            ? (deployment.gate?.afterApproval == .promote
                ? "moves all traffic of \(deployment.alias) to version \(deployment.toVersion) now"
                : "lets \(deployment.strategy.name) move \(deployment.alias) from version \(deployment.fromVersion) to \(deployment.toVersion), step by step, still watched")
            : "puts all traffic of \(deployment.alias) back on version \(deployment.fromVersion) at once"
        var rows = [
            ("Function", "\(deployment.function)"), ("Alias", "\(deployment.alias)"),
            ("Versions", "\(deployment.fromVersion) → \(deployment.toVersion)"), ("Status", deployment.status.rawValue),
            ("New version's share", Strategy.percentText(deployment.weight * 100)),
        ]
        if let environment = deployment.gate?.environment { rows.append(("Environment", environment)) }
        for key in ["repository", "build"] { if let value = deployment.metadata[key] { rows.append((key.capitalized, value)) } }
        if let expires = deployment.approval?.expiresAt { rows.append(("Link expires", expires.description)) }
        let body = """
            <p>Deployment <b>\(escape(deployment.id.rawValue))</b>. \(escape(verb)) \(escape(what)).</p>
            \(table(rows))
            \(health(checked.live))
            \(problem.map { "<p class=\"problem\">\(escape($0))</p>" } ?? "")
            <form method="post" action="\(escape(action))">
            <label for="name">Your name (recorded in the audit trail)</label>
            <input id="name" name="name" required maxlength="128" autocomplete="name">
            <label for="reason">Reason (optional)</label>
            <input id="reason" name="reason" maxlength="1024">
            <button class="\(approving ? "approve" : "rollback")" type="submit">\(escape(verb)) deployment \(escape(deployment.id.rawValue))</button>
            </form>
            <p class="muted">Opening this page changed nothing; only the button acts, once.</p>
            """
        return HTML(title: "\(verb) \(deployment.function):\(deployment.alias) \(deployment.fromVersion) → \(deployment.toVersion)?", body: body)
    }

    static func done(_ deployment: Deployment, action: LinkToken.Action, by name: String) -> HTML {
        let title = action == .approve ? "Approved" : "Rolled back"
        let next = deployment.history.last?.message ?? deployment.status.rawValue
        return HTML(
            title: "\(title) by \(name)",
            body: """
                <p>Deployment <b>\(escape(deployment.id.rawValue))</b> of \(escape("\(deployment.function):\(deployment.alias)")) is now \
                <b>\(escape(deployment.status.rawValue))</b>.</p><p>\(escape(next))</p>
                """)
    }

    static func refusal(_ title: String, _ text: String) -> HTML {
        HTML(title: title, body: "<p>\(escape(text))</p>")
    }

    static func table(_ rows: [(String, String)]) -> String {
        "<table>" + rows.map { "<tr><th>\(escape($0.0))</th><td>\(escape($0.1))</td></tr>" }.joined() + "</table>"
    }

    static func health(_ report: HealthReport?) -> String {
        guard let report else { return "" }
        func rate(_ health: VersionHealth) -> String {
            health.errorRate.map { String(format: "%.2f%%", $0 * 100) } ?? "–"
        }
        func p99(_ health: VersionHealth) -> String {
            health.p99Milliseconds.map { String(format: "%.1f ms", $0) } ?? "–"
        }
        let rows = [
            ("", "New version", "Current version"),
            ("Invocations", "\(report.canary.invocations)", "\(report.baseline.invocations)"),
            ("Errors", "\(report.canary.errors)", "\(report.baseline.errors)"),
            ("Error rate", rate(report.canary), rate(report.baseline)),
            ("p99", p99(report.canary), p99(report.baseline)),
        ]
        let finding = report.finding.map { "<p class=\"problem\">\(escape("\($0.check): \($0.detail)"))</p>" } ?? "<p>No health check is failing.</p>"
        return "<h2>Health</h2><table>"
            + rows.map { "<tr><th>\(escape($0.0))</th><td>\(escape($0.1))</td><td>\(escape($0.2))</td></tr>" }.joined()
            + "</table>" + finding
    }

    static func escape(_ text: String) -> String {
        var escaped = ""
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.append(character)
            }
        }
        return escaped
    }
}

/// An IPv4 or IPv6 network in CIDR form (`10.0.0.0/8`, `::1/128`; a bare address is one host).
public struct IPNetwork: Sendable, Hashable, CustomStringConvertible {
    let address: [UInt8]
    let prefixLength: Int

    public init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1).map(String.init)
        guard let address = Self.bytes(parts[0]) else { return nil }
        let length = parts.count == 2 ? Int(parts[1]) : address.count * 8
        guard let length, (0...address.count * 8).contains(length) else { return nil }
        self.address = address
        self.prefixLength = length
    }

    public func contains(_ text: String) -> Bool {
        guard var candidate = Self.bytes(text) else { return false }
        // An IPv4 client seen on an IPv6 socket (::ffff:a.b.c.d) is still that IPv4 client.
        if candidate.count == 16, address.count == 4, candidate.prefix(12) == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff] {
            candidate = Array(candidate.suffix(4))
        }
        guard candidate.count == address.count else { return false }
        var remaining = prefixLength
        for (mine, theirs) in zip(address, candidate) where remaining > 0 {
            let bits = min(8, remaining)
            let mask = UInt8(truncatingIfNeeded: 0xff << (8 - bits))
            guard mine & mask == theirs & mask else { return false }
            remaining -= bits
        }
        return true
    }

    public var description: String {
        let text =
            address.count == 4
            ? address.map(String.init).joined(separator: ".")
            : stride(from: 0, to: 16, by: 2).map { String(UInt16(address[$0]) << 8 | UInt16(address[$0 + 1]), radix: 16) }.joined(separator: ":")
        return "\(text)/\(prefixLength)"
    }

    static func bytes(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }
}
