import XCTest
import LoomCore
import LoomNN

/// The blueprint diagram: every layer of every reference network appears with its type and
/// parameter count, containers as frames, and the markup is well formed.
final class BlueprintSVGTests: XCTestCase {
    func testEveryReferenceNetworkDrawsEveryLayer() throws {
        for c in ReferenceNetworks.cases(dtype: .f32) {
            let net = try Network<Float>(c.spec)
            let svg = Blueprint.svg(net)
            XCTAssertTrue(svg.hasPrefix("<svg ") && svg.hasSuffix("</svg>\n"), c.name)
            XCTAssertEqual(svg.components(separatedBy: "<text").count - 1, svg.components(separatedBy: "</text>").count - 1, "\(c.name): text elements balanced")
            XCTAssertFalse(svg.contains("nan") || svg.contains("inf"), "\(c.name): coordinates are finite")
            func walk(_ l: Layer<Float>) {
                XCTAssertTrue(svg.contains(SVGText.escape(l.typeName)), "\(c.name): \(l.typeName) is drawn")
                for ch in l.children { walk(ch) }
            }
            for l in net.root.layers { walk(l) }
            XCTAssertTrue(svg.contains("\(net.params.scalarCount) parameters"), c.name)
            if c.name.hasPrefix("residual") { XCTAssertTrue(svg.contains("stroke=\"#2a7\""), "the skip connection is drawn") }
        }
        XCTAssertEqual(SVGText.escape("a<b & \"c\">"), "a&lt;b &amp; &quot;c&quot;&gt;")
    }
}
