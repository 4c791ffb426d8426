@testable import AviaryCore
@testable import AviaryEngine
import Foundation
import Testing

@Suite final class LinkSignerTests {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("aviary-links-\(UUID().uuidString)")
    init() throws { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) }
    deinit { try? FileManager.default.removeItem(at: folder) }

    let token = LinkToken(
        id: "3f1c", deployment: DeploymentID("d-LINKS0001")!, action: .approve, expiresAt: Timestamp(millisecondsSince1970: 2_000))

    @Test func aSignedTokenVerifiesUntilItExpires() {
        let signer = LinkSigner.ephemeral()
        let text = signer.token(token)
        #expect(signer.verify(text, now: Timestamp(millisecondsSince1970: 1_999)) == .success(token))
        #expect(signer.verify(text, now: Timestamp(millisecondsSince1970: 2_000)) == .failure(.expired(token)))
    }

    @Test func anyChangeOrAnotherSecretMakesItForged() {
        let signer = LinkSigner.ephemeral()
        let text = signer.token(token)
        let (payload, signature) = (text.split(separator: ".")[0], text.split(separator: ".")[1])
        let rollback = signer.token(LinkToken(id: token.id, deployment: token.deployment, action: .rollback, expiresAt: token.expiresAt))
        let later = signer.token(LinkToken(id: token.id, deployment: token.deployment, action: .approve, expiresAt: Timestamp(millisecondsSince1970: 9_000)))
        let now = Timestamp(millisecondsSince1970: 0)
        // A changed first character of the signature: the last carries only four bits, and a change there
        // could decode to the same bytes (one run in sixteen made the test fail).
        for forged in [
            "\(rollback.split(separator: ".")[0]).\(signature)", "\(later.split(separator: ".")[0]).\(signature)",
            "\(payload).\(signature.first == "A" ? "B" : "A")\(signature.dropFirst())", "\(payload)", "\(payload).", ".\(signature)", "", String(repeating: "a", count: 600),
            "\(payload).\(signature).x", "\(payload)!.\(signature)",
        ] {
            #expect(signer.verify(forged, now: now) == .failure(.forged), "\(forged)")
        }
        #expect(LinkSigner.ephemeral().verify(text, now: now) == .failure(.forged))
    }

    @Test func theSecretIsCreatedOnceOwnerOnlyAndKeepsLinksValidAcrossRestarts() throws {
        let file = folder.appendingPathComponent("approval-secret")
        let first = try LinkSigner.loadOrCreate(secretFile: file)
        let text = first.token(token)
        let permissions = try FileManager.default.attributesOfItem(atPath: file.path)[.posixPermissions] as? NSNumber
        #expect(permissions?.intValue == 0o600)
        let second = try LinkSigner.loadOrCreate(secretFile: file)
        #expect(second.verify(text, now: Timestamp(millisecondsSince1970: 0)) == .success(token))
    }

    @Test func linksPointAtThePublicAddress() throws {
        let signer = LinkSigner.ephemeral()
        signer.baseURL = "https://aviary.example.com/"
        var deployment = Deployment(
            id: token.deployment, function: FunctionName(trusted: "orders"), alias: AliasName(trusted: "live"),
            fromVersion: VersionNumber(1), toVersion: VersionNumber(2), strategy: try Strategy.parse("canary:10%:1m"), prewarm: 0,
            createdAt: Timestamp(millisecondsSince1970: 0), gate: ApprovalGate())
        #expect(signer.links(for: deployment) == nil)
        _ = try deployment.handle(.start, at: Timestamp(millisecondsSince1970: 0), newExecutionID: { UUID().uuidString })
        let links = try #require(signer.links(for: deployment))
        #expect(links.approve.hasPrefix("https://aviary.example.com/approvals/"))
        #expect(links.rollback.hasPrefix("https://aviary.example.com/approvals/"))
        guard case .success(let approve) = signer.verify(links.approve.split(separator: "/").last!, now: Timestamp(millisecondsSince1970: 0)) else {
            Issue.record("approve link does not verify")
            return
        }
        #expect(approve.action == .approve)
        #expect(approve.id == deployment.approval?.approveTokenID)
    }
}
