// Command etcd is the etcd server, built from go.etcd.io/etcd/server/v3 as
// etcd's own main.go does, for the control plane Remedy's tests start.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
