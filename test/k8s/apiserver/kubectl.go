// `k8s-apiserver kubectl ARGS…`: kubectl of the same Kubernetes release, so the tests apply
// manifests the way users do without another component to install.
package main

import (
	"os"

	"k8s.io/component-base/cli"
	"k8s.io/component-base/logs"
	"k8s.io/kubectl/pkg/cmd"
	"k8s.io/kubectl/pkg/cmd/util"
)

func runKubectl(args []string) {
	logs.GlogSetter(cmd.GetLogVerbosity(args)) //nolint:errcheck
	command := cmd.NewDefaultKubectlCommand()
	command.SetArgs(args)
	if err := cli.RunNoErrOutput(command); err != nil {
		util.CheckErr(err)
	}
	os.Exit(0)
}
