package httpapi

import "net/http"

func (s *Server) handleSimpleJWTObtain(w http.ResponseWriter, r *http.Request) {
	s.handleNotFound(w, r)
}

func (s *Server) handleSimpleJWTRefresh(w http.ResponseWriter, r *http.Request) {
	s.handleNotFound(w, r)
}

func (s *Server) handleSimpleJWTVerify(w http.ResponseWriter, r *http.Request) {
	s.handleNotFound(w, r)
}

func (s *Server) handleSimpleJWTBlacklist(w http.ResponseWriter, r *http.Request) {
	s.handleNotFound(w, r)
}
