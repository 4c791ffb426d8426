@testable import AviaryCore
@testable import AviaryStore
import Crypto
import Foundation
import Testing

@Suite final class CodeStoreTests {
    let directory: TemporaryDirectory
    let store: CodeStore

    init() throws {
        directory = try TemporaryDirectory()
        store = try CodeStore(root: directory.url.appendingPathComponent("code"))
    }

    func rejection(_ zip: Data) -> LambdaError? {
        do {
            _ = try store.ingest(zip)
            return nil
        } catch {
            return error as? LambdaError
        }
    }

    @Test func aValidZipIsStoredUnderItsSha256() throws {
        let zip = try ZipBuilder.zip([.file("index.py", "def handler(e, c):\n    return 1\n"), .file("lib/util.py", "x = 1")])
        let artifact = try store.ingest(zip)
        #expect(artifact.sha256 == Data(SHA256.hash(data: zip)).base64EncodedString())
        #expect(artifact.size == zip.count)
        let stored = try #require(store.archive(sha256: artifact.sha256))
        #expect(try Data(contentsOf: stored) == zip)
        #expect(stored.path.hasPrefix(directory.url.path))
        // Same bytes, same artifact, one file.
        #expect(try store.ingest(zip) == artifact)
    }

    @Test func corruptArchivesAreRefusedWithAWSsText() {
        let error = rejection(Data("this is not a zip file at all".utf8))
        #expect(error?.code == .invalidParameterValue)
        #expect(error?.message == "Could not unzip uploaded file. Please check your file, then try to upload again.")
    }

    @Test func aDamagedEntryIsCaughtByItsChecksum() throws {
        var zip = try ZipBuilder.zip([.file("index.py", String(repeating: "print('hello')\n", count: 50))])
        // Flip bytes inside the compressed data of the only entry (after its 30-byte local header + name).
        for offset in 45..<55 { zip[offset] ^= 0xFF }
        let error = rejection(zip)
        #expect(error?.code == .invalidParameterValue)
        #expect(error?.message.hasPrefix("Could not unzip uploaded file.") == true)
    }

    @Test(arguments: ["../evil.py", "/etc/evil.py", "a/../../evil.py", "a/../b/../../evil.py", "..", "a\\..\\evil.py"])
    func entriesThatLeaveTheRootAreRefused(path: String) throws {
        let zip = try ZipBuilder.zip([.file("index.py", "ok"), .file(path, "evil")])
        let error = rejection(zip)
        #expect(error?.code == .invalidParameterValue)
        #expect(error?.message.contains(path) == true)
        #expect(!FileManager.default.fileExists(atPath: directory.url.deletingLastPathComponent().appendingPathComponent("evil.py").path))
    }

    @Test(arguments: ["/etc/passwd", "../../outside", "a/../../../outside", ""])
    func symlinksThatEscapeAreRefused(target: String) throws {
        let zip = try ZipBuilder.zip([.file("index.py", "ok"), .symlink("lib/link", target: target)])
        let error = rejection(zip)
        #expect(error?.code == .invalidParameterValue)
        #expect(error?.message.contains("Symbolic link 'lib/link'") == true)
    }

    @Test func symlinksInsideTheRootAreFine() throws {
        let zip = try ZipBuilder.zip([.file("lib/real.py", "x"), .symlink("lib/alias.py", target: "real.py"),
                                      .symlink("up.py", target: "lib/../lib/real.py"),
                                      .symlink("lib/sibling.py", target: "../up.py")])
        #expect(throws: Never.self) { try self.store.ingest(zip) }
    }

    @Test func theUnzippedSizeIsCountedFromRealBytes() throws {
        let zip = try ZipBuilder.zip([.file("big.txt", String(repeating: "0", count: 200_000))])
        #expect(zip.count < 10_000)
        let url = directory.url.appendingPathComponent("big.zip")
        try zip.write(to: url)
        #expect(throws: Never.self) { try ArchiveInspector.check(zipAt: url, maxUnzippedBytes: 200_000) }
        #expect(throws: LambdaError(.invalidParameterValue, "Unzipped size must be smaller than 199999 bytes")) {
            try ArchiveInspector.check(zipAt: url, maxUnzippedBytes: 199_999)
        }
    }

    @Test func zipsOver50MBAreTooLarge() {
        let error = rejection(Data(count: CodeStore.maxZippedBytes + 1))
        #expect(error == LambdaError(.requestEntityTooLarge, "Zipped size must be smaller than 52428800 bytes"))
    }

    @Test func refusedUploadsLeaveNothingBehind() throws {
        _ = rejection(Data("garbage".utf8))
        let incoming = directory.url.appendingPathComponent("code/incoming")
        #expect(try FileManager.default.contentsOfDirectory(atPath: incoming.path).isEmpty)
        #expect(store.archive(sha256: "not base64") == nil)
    }
}
