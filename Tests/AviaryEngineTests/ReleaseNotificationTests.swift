@testable import AviaryCore
@testable import AviaryEngine
import Foundation
import Testing

/// A release's notifications name the application, its number and every alias it moves.
@Suite struct ReleaseNotificationTests {
    func release() throws -> Deployment {
        let members = ["users", "carts"].map {
            DeploymentTarget(function: FunctionName(trusted: $0), alias: AliasName(trusted: "live"), fromVersion: VersionNumber(3), toVersion: VersionNumber(4))
        }
        return Deployment(
            id: DeploymentID("d-RELEASE01")!, function: FunctionName(trusted: "orders"), alias: AliasName(trusted: "live"),
            fromVersion: VersionNumber(1), toVersion: VersionNumber(2), strategy: try Strategy.parse("canary:10%:1m"), prewarm: 0,
            createdAt: Timestamp(millisecondsSince1970: 0), notify: [NotificationTarget(kind: .webhook, url: "http://127.0.0.1:9/hook")],
            release: ReleaseInfo(application: "shop", number: 7, members: members, manifest: []))
    }

    @Test func theGenericPayloadCarriesTheReleaseAndEveryAlias() throws {
        let notification = DeploymentNotification(event: .started, deployment: try release(), at: Timestamp(millisecondsSince1970: 0))
        let json = try #require(JSONSerialization.jsonObject(with: NotificationPayload.render(notification, as: .webhook)) as? [String: Any])
        let facts = try #require((json["deployment"] as? [String: Any])?["release"] as? [String: Any])
        #expect(facts["application"] as? String == "shop")
        #expect(facts["number"] as? Int == 7)
        let functions = try #require(facts["functions"] as? [[String: String]])
        #expect(functions.map { $0["function"] } == ["orders", "users", "carts"])
        #expect(functions.last == ["function": "carts", "alias": "live", "fromVersion": "3", "toVersion": "4"])
    }

    @Test func slackNamesTheApplicationAndTheAliases() throws {
        let notification = DeploymentNotification(event: .started, deployment: try release(), at: Timestamp(millisecondsSince1970: 0))
        let json = try #require(JSONSerialization.jsonObject(with: NotificationPayload.render(notification, as: .slack)) as? [String: Any])
        let text = try #require(json["text"] as? String)
        #expect(text.contains("shop release 7 (orders:live 1 → 2, users:live 3 → 4, carts:live 3 → 4)"))
    }
}
