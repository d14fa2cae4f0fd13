package mongox_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The guard is a type: no package outside mongox may hold or obtain a raw
// *mongo.Collection, whose writes would skip the FerretDB guard and could
// write back a stale document over a guarded change. Tests may (they inspect
// and corrupt data on purpose).
func TestNoPackageOutsideMongoxTouchesARawCollection(t *testing.T) {
	root := moduleRoot(t)
	var offences []string
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", "node_modules", "data", "testdata":
				return filepath.SkipDir
			}
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") ||
			strings.HasPrefix(rel, filepath.Join("platform", "mongox")+string(filepath.Separator)) {
			return nil
		}
		offences = append(offences, rawCollectionUses(t, path, rel)...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(offences) > 0 {
		t.Fatalf("stores must use mongox.C / *mongox.Collection, not the driver's collection:\n%s", strings.Join(offences, "\n"))
	}
}

func rawCollectionUses(t *testing.T, path, rel string) []string {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, nil, 0)
	if err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
	mongoName := ""
	for _, imp := range f.Imports {
		p, _ := strconv.Unquote(imp.Path.Value)
		if p == "go.mongodb.org/mongo-driver/v2/mongo" {
			mongoName = "mongo"
			if imp.Name != nil {
				mongoName = imp.Name.Name
			}
		}
	}
	// Without the driver's package a file can still reach a raw collection
	// through a *mongo.Database it was handed (db.Collection("x")).
	var out []string
	where := func(n ast.Node) string { return rel + ":" + strconv.Itoa(fset.Position(n.Pos()).Line) }
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.SelectorExpr:
			if x, ok := n.X.(*ast.Ident); ok && mongoName != "" && x.Name == mongoName && n.Sel.Name == "Collection" {
				out = append(out, where(n)+": names mongo.Collection")
			}
		case *ast.CallExpr:
			// db.Collection("x"), bucket.GetFilesCollection(): the ways to a raw handle.
			if sel, ok := n.Fun.(*ast.SelectorExpr); ok {
				switch sel.Sel.Name {
				case "Collection", "GetFilesCollection", "GetChunksCollection":
					out = append(out, where(n)+": calls ."+sel.Sel.Name+"()")
				}
			}
		}
		return true
	})
	return out
}

func moduleRoot(t *testing.T) string {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found")
		}
		dir = parent
	}
}
