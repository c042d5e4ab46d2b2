package server

import (
	"fmt"

	"github.com/warren-zk/warren/internal/auth"
	"github.com/warren-zk/warren/internal/jute"
	"github.com/warren-zk/warren/internal/proto"
)

// SASL (opcode 102) as ZooKeeperServer.processSasl runs it: each GetSASLRequest token goes
// to the connection's SASL server (DIGEST-MD5 with the JAAS Server section's users); its
// answer comes back in a SetSASLResponse with zxid 0. When the exchange completes, the
// connection gets the id sasl:<user> (and super:, for a zookeeper.superUser). A failed
// exchange is answered AuthFailed, or SessionClosedRequireSASLAuth when SASL is enforced,
// with a null token, and the connection is closed (unless zookeeper.allowSaslFailedClients
// lets it go on unauthenticated). Without SASL configured the answer is an empty token and
// nothing else happens, as in ZooKeeper.

// saslState is a connection's SASL exchange; only the reader goroutine touches it.
type saslState struct {
	server *auth.DigestServer
}

// saslReply is the answer to a sasl packet, computed when the packet is read and sent in
// order with the connection's other replies.
type saslReply struct {
	code proto.Err
	body proto.Record
}

func (*saslReply) Encode(*jute.Encoder) {}
func (*saslReply) Decode(*jute.Decoder) {}

// handleSASL answers one sasl packet.
func (c *conn) handleSASL(it *item, token []byte) error {
	users := c.s.sec.saslUsers
	if users == nil {
		it.req = &saslReply{code: proto.ErrOK, body: &proto.SetSASLResponse{}}
		c.enqueueRead(it)
		return nil
	}
	if c.sasl.server == nil {
		superPW := c.s.sec.saslSuperPassword
		c.sasl.server = &auth.DigestServer{Password: func(user string) (string, bool) {
			if user == "super" && superPW != "" {
				return superPW, true
			}
			pw, ok := users[user]
			return pw, ok
		}}
	}
	resp, err := c.sasl.server.Next(token)
	if err != nil {
		c.s.log.Warn("client failed to SASL authenticate", "remote", c.nc.RemoteAddr().String(), "err", err)
		if c.s.sec.allowSaslFailed && !c.s.sec.saslRequired {
			c.s.log.Warn("maintaining client connection despite SASL authentication failure")
			it.req = &saslReply{code: proto.ErrOK, body: &proto.SetSASLResponse{}}
			c.enqueueRead(it)
			return nil
		}
		code := proto.ErrAuthFailed
		if c.s.sec.saslRequired {
			code = proto.ErrSessionClosedRequireSASLAuth
		}
		it.req = &saslReply{code: code, body: bodyWithError{&proto.SetSASLResponse{}}}
		it.closeAfter = true
		c.enqueueRead(it)
		return errClose{"SASL authentication failed", true}
	}
	if c.sasl.server.Complete() {
		user := c.sasl.server.AuthorizationID()
		ids := []proto.Id{{Scheme: "sasl", Id: user}}
		if c.s.sec.saslSuperUsers[user] {
			ids = append(ids, proto.Id{Scheme: "super", Id: ""})
		}
		c.addAuth(ids...)
		c.s.log.Info("SASL authentication succeeded", "session", fmt.Sprintf("0x%x", c.sessionID.Load()), "id", user)
	}
	it.req = &saslReply{code: proto.ErrOK, body: &proto.SetSASLResponse{Token: resp}}
	c.enqueueRead(it)
	return nil
}
